package netstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	ctls "crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/waiter"

	"islet.dev/islet/tls/certs"
	"islet.dev/islet/tls/web"
	"islet.dev/islet/zones"
)

var (
	serverAddr = netip.MustParseAddr("10.0.0.2")
	clientAddr = netip.MustParseAddr("10.0.0.1")
)

// pair starts a server stack and a client stack joined by a pipe.
func pair(t testing.TB, loss float64) (server, client *Stack) {
	t.Helper()
	a, b := Pipe(loss)
	var err error
	if server, err = New(a, Config{IPv4: netip.PrefixFrom(serverAddr, 24)}); err != nil {
		t.Fatal(err)
	}
	if client, err = New(b, Config{IPv4: netip.PrefixFrom(clientAddr, 24)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

// testListener listens on port of st's address until the test ends.
func testListener(t testing.TB, st *Stack, port uint16) (net.Listener, netip.AddrPort) {
	t.Helper()
	ap := netip.AddrPortFrom(serverAddr, port)
	ln, err := st.ListenTCP(ap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ap
}

func TestDNSOverTheStack(t *testing.T) {
	server, client := pair(t, 0)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "stack.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 10.0.0.2\nwww A 192.0.2.80\n"), 0o644)
	set, _, err := zones.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := zones.New(zones.Config{}, set)
	ap := netip.AddrPortFrom(serverAddr, 53)
	pc, err := server.ListenUDP(ap)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := server.ListenTCP(ap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.ServePacket(ctx, pc)
	go srv.ServeStream(ctx, ln)
	defer pc.Close()
	defer ln.Close()

	q := new(dns.Msg).SetQuestion("www.stack.example.", dns.TypeA)
	udp, err := client.DialUDP(ap)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.ExchangeWithConn(q, &dns.Conn{Conn: udp})
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.80" {
		t.Fatalf("UDP: %v %v", err, r)
	}
	tcp, err := client.DialTCP(context.Background(), ap)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	for i := 0; i < 3; i++ { // several queries on one connection
		r, _, err = c.ExchangeWithConn(q, &dns.Conn{Conn: tcp})
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("TCP query %d: %v %v", i, err, r)
		}
	}
}

func TestHTTPSOverTheStack(t *testing.T) {
	server, client := pair(t, 0)
	site, err := web.NewSite(fstest.MapFS{"index.html": {Data: []byte("<h1>stack</h1>")}}, web.SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := certs.New(certs.Config{Names: []string{"stack.example"}})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := web.NewServer(web.Config{Site: site, Certs: cm})
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(serverAddr, 443)
	ln, err := server.ListenTCP(ap)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.ServeHTTPS(ctx, ln) }()
	defer func() { cancel(); <-done }()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &ctls.Config{InsecureSkipVerify: true}, // the self-signed certificate; its chain is not what is tested here
		ForceAttemptHTTP2: true,
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return client.DialTCP(ctx, ap) },
	}}
	resp, err := hc.Get("https://stack.example/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<h1>stack</h1>" || resp.Proto != "HTTP/2.0" {
		t.Fatalf("%s %d %q", resp.Proto, resp.StatusCode, body)
	}
}

// TestBulkTransferWithLoss sends 10 MB over TCP through a link that drops
// 1% of frames each way: retransmission must deliver every byte.
func TestBulkTransferWithLoss(t *testing.T) {
	server, client := pair(t, 0.01)
	ln, ap := testListener(t, server, 9000)
	data := make([]byte, 10<<20)
	for i := range data {
		data[i] = byte(i * 7 >> 3)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write(data)
		c.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.DialTCP(ctx, ap)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	start := time.Now()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("received %d bytes, not the %d sent", len(got), len(data))
	}
	drops := server.link.dropped.Load() + client.link.dropped.Load()
	if drops == 0 {
		t.Fatal("the lossy link dropped nothing: retransmission was not tested")
	}
	t.Logf("10 MB with 1%% loss in %v, %d frames dropped", time.Since(start), drops)
}

// TestPingAnswered sends an ICMP echo request from the client stack.
func TestPingAnswered(t *testing.T) {
	_, client := pair(t, 0)
	var wq waiter.Queue
	ep, terr := client.s.NewEndpoint(1 /* ICMPv4 */, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		t.Fatal(terr)
	}
	defer ep.Close()
	req := make([]byte, header.ICMPv4MinimumSize+4)
	icmp := header.ICMPv4(req)
	icmp.SetType(header.ICMPv4Echo)
	copy(req[header.ICMPv4MinimumSize:], "ping")
	to := tcpip.FullAddress{Addr: tcpip.AddrFromSlice(serverAddr.AsSlice())}
	we, ch := waiter.NewChannelEntry(waiter.EventIn)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	if _, terr := ep.Write(bytes.NewReader(req), tcpip.WriteOptions{To: &to}); terr != nil {
		t.Fatal(terr)
	}
	select {
	case <-ch:
	case <-time.After(3 * time.Second):
		t.Fatal("no echo reply")
	}
	var buf bytes.Buffer
	if _, terr := ep.Read(&buf, tcpip.ReadOptions{}); terr != nil {
		t.Fatal(terr)
	}
	reply := header.ICMPv4(buf.Bytes())
	if reply.Type() != header.ICMPv4EchoReply || !bytes.HasSuffix(buf.Bytes(), []byte("ping")) {
		t.Fatalf("reply % x", buf.Bytes())
	}
}

// TestSlowReader: a sender far faster than its reader must neither
// deadlock nor lose data (flow control with a reader that sleeps).
func TestSlowReader(t *testing.T) {
	server, client := pair(t, 0)
	ln, ap := testListener(t, server, 9001)
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i * 13)
	}
	sent := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			sent <- err
			return
		}
		_, err = c.Write(data) // blocks on a full window, then resumes
		c.Close()
		sent <- err
	}()
	c, err := client.DialTCP(context.Background(), ap)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	for reads := 0; ; reads++ {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", got.Len(), err)
		}
		if reads < 20 {
			time.Sleep(20 * time.Millisecond) // slow at first: the window fills and stalls the sender
		}
	}
	if err := <-sent; err != nil {
		t.Fatalf("sender: %v", err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("received %d bytes, not the %d sent", got.Len(), len(data))
	}
}

// TestDHCPMTU: a DHCP server's MTU is applied when it is no larger than
// the link carries and not absurdly small; otherwise the NIC keeps its
// own.
func TestDHCPMTU(t *testing.T) {
	server, _ := pair(t, 0)
	link := server.MTU()
	for _, c := range []struct {
		dhcp int
		want uint32
	}{
		{0, link}, {int(link) + 1, link}, {100, link}, {1400, 1400}, {1280, 1280}, {int(link), link},
	} {
		server.applyMTU(c.dhcp)
		if got := server.MTU(); got != c.want {
			t.Errorf("DHCP MTU %d on a %d link: NIC MTU %d, want %d", c.dhcp, link, got, c.want)
		}
	}
}

// TestCloseTwice: a second Close is harmless (it panicked).
func TestCloseTwice(t *testing.T) {
	a, _ := Pipe(0)
	st, err := New(a, Config{IPv4: netip.MustParsePrefix("10.0.0.7/24")})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st.Close()
}
