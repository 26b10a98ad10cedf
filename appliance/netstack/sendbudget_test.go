package netstack

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

func TestSendBudgetShares(t *testing.T) {
	const total = 32 << 20 // a quarter of a 128 MB guest
	b := newSendBudget(total)
	var taken []int64
	var sum int64
	for i := 0; i < 200; i++ {
		share := b.take()
		if share < minShare || share > maxShare {
			t.Fatalf("share %d: %d bytes, outside [%d, %d]", i, share, minShare, maxShare)
		}
		if i > 0 && share > taken[i-1] {
			t.Fatalf("share %d (%d) is larger than the one before (%d) though less is left", i, share, taken[i-1])
		}
		taken = append(taken, share)
		sum += share
	}
	if taken[0] != maxShare || taken[199] != minShare {
		t.Errorf("first share %d, last %d: want %d on a quiet stack and %d once the budget is spent", taken[0], taken[199], maxShare, minShare)
	}
	// Past the budget only the least shares are taken.
	if over := sum - total; over > 200*minShare {
		t.Errorf("%d bytes taken of %d: %d over, more than the least shares account for", sum, total, over)
	}
	for _, s := range taken {
		b.give(s)
	}
	if b.free != total {
		t.Errorf("%d free after every share came back, want %d", b.free, total)
	}
	buf, pend := split(maxShare)
	if buf != 1<<20 || pend != maxPending {
		t.Errorf("the largest share splits into %d + %d, want %d + %d", buf, pend, 1<<20, maxPending)
	}
}

// TestSendBudgetGivenBack: connections take smaller shares as the
// budget is spent, and give them back once their data has left: when
// the peer has read it all, or (a peer that stopped reading) when the
// closed connection is reset after the linger.
func TestSendBudgetGivenBack(t *testing.T) {
	s, c := pair(t, 0)
	const total = 4 << 20
	s.send = newSendBudget(total)
	s.send.linger = 2 * time.Second
	// Small client windows: a client that stops reading leaves the
	// server holding data.
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 32 << 10, Max: 32 << 10}
	mod := tcpip.TCPModerateReceiveBufferOption(false)
	for _, o := range []tcpip.SettableTransportProtocolOption{&rcv, &mod} {
		if terr := c.s.SetTransportProtocolOption(tcp.ProtocolNumber, o); terr != nil {
			t.Fatal(terr)
		}
	}
	ln, ap := testListener(t, s, 9200)
	const n = 12
	shares := make(chan int64, n)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tcpConn)
			shares <- tc.share
			if got := tc.ep.SocketOptions().GetSendBufferSize(); got != int64(tc.share-int64(tc.maxPend)) {
				t.Errorf("send buffer %d for a share of %d", got, tc.share)
			}
			go func() {
				conn.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
				conn.Write(make([]byte, 2<<20)) // more than any share: the write times out
				conn.Close()
			}()
		}
	}()
	var idlers []net.Conn
	read := make(chan error, n)
	for i := 0; i < n; i++ {
		conn, err := c.DialTCP(context.Background(), ap)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if i%2 == 1 {
			idlers = append(idlers, conn)
			continue
		}
		go func() {
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := io.Copy(io.Discard, conn)
			read <- err
		}()
	}
	var sum, last int64 = 0, maxShare + 1
	for i := 0; i < n; i++ {
		share := <-shares
		if share > last {
			t.Errorf("connection %d took %d, more than the one before (%d)", i, share, last)
		}
		last = share
		sum += share
	}
	if sum > total+n*minShare {
		t.Errorf("%d connections took %d bytes of a %d budget", n, sum, total)
	}
	for i := 0; i < n/2; i++ {
		if err := <-read; err != nil {
			t.Errorf("a reader: %v", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.send.mu.Lock()
		free := s.send.free
		s.send.mu.Unlock()
		if free == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d bytes of the budget came back", free, total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The peers that stopped reading were reset.
	for _, conn := range idlers {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, conn); err == nil {
			t.Error("a peer that stopped reading got the stream's end, not a reset")
		}
	}
}
