package netstack

import (
	"bytes"
	"io"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// TestAckCarriedByTheResponse: a request answered at once costs no pure
// ACK (the response carries it); one left unanswered is acknowledged
// within ackHold.
func TestAckCarriedByTheResponse(t *testing.T) {
	server, client, st := tcpPairOn(t, 9110, 0)
	buf := make([]byte, 64)
	for i := 0; i < 20; i++ {
		client.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		server.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := server.Read(buf); err != nil {
			t.Fatal(err)
		}
		server.Write(bytes.Repeat([]byte("r"), 10<<10))
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(client, make([]byte, 10<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if saved := st.acks.saved.Load(); saved < 10 {
		t.Fatalf("%d of 20 requests' ACKs were carried by their responses", saved)
	}
	sent := st.acks.sent.Load()
	client.Write([]byte("no answer to this"))
	server.Read(buf)
	time.Sleep(20 * ackHold)
	if st.acks.sent.Load() == sent {
		t.Fatal("an unanswered request's ACK was held past ackHold")
	}
}

// TestUploadWithLoss sends 10 MB to the server through a link that
// drops 1% each way: the server's ACKs (held or not) must keep the
// client's retransmission and window going.
func TestUploadWithLoss(t *testing.T) {
	server, client, st := tcpPairOn(t, 9111, 0.01)
	data := bytes.Repeat([]byte("upload "), 1500<<10)
	go func() {
		client.Write(data)
		client.Close()
	}()
	server.SetReadDeadline(time.Now().Add(60 * time.Second))
	got, err := io.ReadAll(server)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("received %d of %d bytes: %v", len(got), len(data), err)
	}
	if st.link.dropped.Load() == 0 {
		t.Fatal("the lossy link dropped none of the server's frames: its ACKs' part was not tested")
	}
}

func TestHasSACK(t *testing.T) {
	for _, c := range []struct {
		opts []byte
		want bool
	}{
		{nil, false},
		{[]byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionTS, 10, 0, 0, 0, 1, 0, 0, 0, 2}, false},
		{[]byte{header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionTS, 10, 0, 0, 0, 1, 0, 0, 0, 2,
			header.TCPOptionNOP, header.TCPOptionNOP, header.TCPOptionSACK, 10, 0, 0, 0, 5, 0, 0, 0, 9}, true},
		{[]byte{header.TCPOptionSACK, 10, 0, 0, 0, 5, 0, 0, 0, 9, 0, 0}, true},
		{[]byte{header.TCPOptionEOL, header.TCPOptionSACK, 10, 0, 0, 0}, false},
		{[]byte{header.TCPOptionTS, 0, header.TCPOptionSACK, 10}, false}, // a bad length ends the scan
	} {
		b := make([]byte, header.TCPMinimumSize+(len(c.opts)+3)/4*4)
		copy(b[header.TCPMinimumSize:], c.opts)
		tcp := header.TCP(b)
		tcp.Encode(&header.TCPFields{DataOffset: uint8(len(b)), Flags: header.TCPFlagAck})
		if got := hasSACK(tcp); got != c.want {
			t.Errorf("options %x: hasSACK = %v, want %v", c.opts, got, c.want)
		}
	}
}
