package appliance

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"islet.dev/islet/zones"
)

// TestResolvingDialer looks a name up at a given DNS server (islet's
// own, here on loopback) through the dial function, then connects.
func TestResolvingDialer(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dial.example"), []byte("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 127.0.0.1\nacme A 127.0.0.1\n"), 0o644)
	set, _, err := zones.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := zones.New(zones.Config{}, set)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.ServePacket(ctx, pc)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("acme")) }))
	defer web.Close()
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())

	var dialed atomic.Int64 // the resolver asks for A and AAAA at once
	base := func(ctx context.Context, network, address string) (net.Conn, error) {
		dialed.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, address)
	}
	dial := resolvingDialer(base, netip.MustParseAddrPort(pc.LocalAddr().String()))
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dial}}
	resp, err := c.Get("http://acme.dial.example:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || dialed.Load() < 2 { // at least one lookup and the connection
		t.Fatalf("status %d, %d dials", resp.StatusCode, dialed.Load())
	}
	if _, err := dial(ctx, "tcp", "missing.dial.example:"+port); err == nil {
		t.Error("a name that does not exist was dialed")
	}
	if _, err := resolvingDialer(base, netip.AddrPort{})(ctx, "tcp", "acme.dial.example:"+port); err == nil {
		t.Error("a name was dialed with no resolver")
	}
}
