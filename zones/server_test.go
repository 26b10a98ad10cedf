package zones_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

func conformanceServer(t *testing.T, cfg zones.Config) string {
	addr, _ := startServer(t, loadDir(t, "testdata/conformance"), cfg)
	return addr
}

// rawUDP sends pkt and returns the response, or nil after a short wait.
func rawUDP(t *testing.T, addr string, pkt []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(pkt)
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func TestMalformedQueries(t *testing.T) {
	addr := conformanceServer(t, zones.Config{})
	pack := func(m *dns.Msg) []byte {
		m.Id = 0xbeef
		p, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := pack(new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
	tests := []struct {
		name  string
		pkt   func() []byte
		rcode int // -1: no response at all
	}{
		{"runt", func() []byte { return good[:11] }, -1},
		{"a response is never answered", func() []byte { p := clone(good); p[2] |= 0x80; return p }, -1},
		{"no question", func() []byte { p := clone(good[:12]); binary.BigEndian.PutUint16(p[4:], 0); return p }, dns.RcodeFormatError},
		{"two questions", func() []byte { p := clone(good); binary.BigEndian.PutUint16(p[4:], 2); return p }, dns.RcodeFormatError},
		{"question cut short", func() []byte { return good[:len(good)-2] }, dns.RcodeFormatError},
		{"label too long", func() []byte { p := clone(good); p[12] = 64; return p }, dns.RcodeFormatError},
		{"compressed question", func() []byte { p := clone(good[:12]); return append(p, 0xc0, 12, 0, 1, 0, 1) }, dns.RcodeFormatError},
		{"answer in a query", func() []byte { p := clone(good); binary.BigEndian.PutUint16(p[6:], 1); return p }, dns.RcodeFormatError},
		{"additional cut short", func() []byte { p := clone(good); binary.BigEndian.PutUint16(p[10:], 1); return append(p, 0, 0, 41) }, dns.RcodeFormatError},
		{"two OPT records", func() []byte {
			m := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
			m.SetEdns0(1232, false)
			m.Extra = append(m.Extra, m.Extra[0])
			return pack(m)
		}, dns.RcodeFormatError},
		{"bad cookie length", func() []byte {
			m := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405"})
			return pack(m)
		}, dns.RcodeFormatError},
		{"OPT as the question type", func() []byte { return pack(new(dns.Msg).SetQuestion("example.com.", dns.TypeOPT)) }, dns.RcodeFormatError},
		{"class NONE", func() []byte {
			m := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
			m.Question[0].Qclass = dns.ClassNONE
			return pack(m)
		}, dns.RcodeRefused},
		{"TSIG without keys", func() []byte {
			m := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
			m.Extra = append(m.Extra, &dns.TSIG{Hdr: dns.RR_Header{Name: "key.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY}, Algorithm: dns.HmacSHA256, MACSize: 0, TimeSigned: uint64(time.Now().Unix()), Fudge: 300, OrigId: 1})
			return pack(m)
		}, dns.RcodeNotAuth},
		{"well formed", func() []byte { return good }, dns.RcodeSuccess},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := rawUDP(t, addr, tc.pkt())
			if tc.rcode < 0 {
				if resp != nil {
					t.Fatalf("got a response to a packet that must be dropped: % x", resp)
				}
				return
			}
			if resp == nil {
				t.Fatal("no response")
			}
			if id := binary.BigEndian.Uint16(resp); id != 0xbeef {
				t.Errorf("id %#x, want 0xbeef", id)
			}
			if rc := int(resp[3] & 0xf); rc != tc.rcode&0xf {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[rc], dns.RcodeToString[tc.rcode])
			}
			if resp[2]&0x80 == 0 || resp[3]&0x80 != 0 {
				t.Errorf("QR must be set and RA clear: flags % x", resp[2:4])
			}
		})
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func TestCookiesAndNSID(t *testing.T) {
	secret := [16]byte{1, 2, 3}
	a := conformanceServer(t, zones.Config{NSID: "ns-a", CookieSecret: secret})
	b := conformanceServer(t, zones.Config{CookieSecret: secret})
	query := func(addr string) *dns.OPT {
		m := new(dns.Msg).SetQuestion("example.com.", dns.TypeSOA)
		m.SetEdns0(1232, false)
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0011223344556677"}, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		r := exchange(t, "udp", addr, m)
		if r.IsEdns0() == nil {
			t.Fatal("no OPT in the response to an EDNS query")
		}
		return r.IsEdns0()
	}
	cookie := func(opt *dns.OPT) string {
		for _, o := range opt.Option {
			if c, ok := o.(*dns.EDNS0_COOKIE); ok {
				return c.Cookie
			}
		}
		return ""
	}
	oa, ob := query(a), query(b)
	ca, cb := cookie(oa), cookie(ob)
	if len(ca) != 48 || ca[:16] != "0011223344556677" || ca[16:18] != "01" {
		t.Fatalf("cookie %q: want the client cookie, then a 16-octet version 1 server cookie", ca)
	}
	// Same secret, same client, same second: the same server cookie.
	if ca[24:32] == cb[24:32] && ca != cb {
		t.Errorf("servers sharing a secret issued different cookies: %s %s", ca, cb)
	}
	var nsid string
	for _, o := range oa.Option {
		if n, ok := o.(*dns.EDNS0_NSID); ok {
			nsid = n.Nsid
		}
	}
	if nsid != "6e732d61" { // "ns-a" in hex
		t.Errorf("NSID %q, want ns-a", nsid)
	}
	for _, o := range ob.Option {
		if _, ok := o.(*dns.EDNS0_NSID); ok {
			t.Error("NSID answered though none is configured")
		}
	}
}

func TestChaos(t *testing.T) {
	addr := conformanceServer(t, zones.Config{Chaos: true, Identity: "host-1", Version: "islet"})
	for name, want := range map[string]string{"id.server.": "host-1", "hostname.bind.": "host-1", "version.bind.": "islet", "VERSION.SERVER.": "islet"} {
		m := new(dns.Msg).SetQuestion(name, dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		r := exchange(t, "udp", addr, m)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != want || r.Answer[0].Header().Class != dns.ClassCHAOS {
			t.Errorf("%s: %v", name, r.Answer)
		}
	}
	m := new(dns.Msg).SetQuestion("other.bind.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	if r := exchange(t, "udp", addr, m); r.Rcode != dns.RcodeRefused {
		t.Errorf("other.bind CH TXT: %s", dns.RcodeToString[r.Rcode])
	}
}

func TestTCPPipelining(t *testing.T) {
	addr := conformanceServer(t, zones.Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var batch []byte
	names := []string{"example.com.", "www.example.com.", "nx.example.com.", "mail.example.com.", "x.dn.example.com."}
	for i, name := range names {
		m := new(dns.Msg).SetQuestion(name, dns.TypeA)
		m.Id = uint16(100 + i)
		p, _ := m.Pack()
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(p)))
		batch = append(batch, p...)
	}
	c.Write(batch) // all at once: pipelined
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for i, name := range names {
		var l [2]byte
		if _, err := readFull(c, l[:]); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		buf := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := readFull(c, buf); err != nil {
			t.Fatal(err)
		}
		var r dns.Msg
		if err := r.Unpack(buf); err != nil {
			t.Fatal(err)
		}
		if r.Id != uint16(100+i) || r.Question[0].Name != name {
			t.Errorf("response %d is for id %d %s", i, r.Id, r.Question[0].Name)
		}
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestTCPIdleTimeoutAndLimit: a client at its share of TCP connections
// whose others have been idle less than a second has its new one closed
// at once; an idle connection is closed after the idle timeout.
func TestTCPIdleTimeoutAndLimit(t *testing.T) {
	addr := conformanceServer(t, zones.Config{TCPIdleTimeout: 300 * time.Millisecond, TCPMaxConns: 2})
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		time.Sleep(20 * time.Millisecond) // accepted in order
	}
	conns[2].SetReadDeadline(time.Now().Add(time.Second))
	start := time.Now()
	if _, err := conns[2].Read(make([]byte, 1)); err == nil || time.Since(start) > 250*time.Millisecond {
		t.Errorf("connection over the limit: err=%v after %v", err, time.Since(start))
	}
	if _, err := tcpExchange(conns[1], "example.com.", dns.TypeSOA); err != nil {
		t.Errorf("a connection within the limit: %v", err)
	}
	// An idle connection is closed after the idle timeout.
	conns[0].SetReadDeadline(time.Now().Add(3 * time.Second))
	start = time.Now()
	_, err := conns[0].Read(make([]byte, 1))
	if err == nil {
		t.Fatal("idle connection got data")
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("idle connection closed after %v, want about 300ms", d)
	}
}

// tcpExchange asks one question on an open DNS TCP connection.
func tcpExchange(c net.Conn, name string, qtype uint16) (*dns.Msg, error) {
	c.SetDeadline(time.Now().Add(time.Second))
	dc := &dns.Conn{Conn: c}
	m := new(dns.Msg).SetQuestion(name, qtype)
	if err := dc.WriteMsg(m); err != nil {
		return nil, err
	}
	return dc.ReadMsg()
}

// TestTCPOneClientFlood: one client's silent, reconnecting TCP
// connections never keep a second client's TCP queries out.
func TestTCPOneClientFlood(t *testing.T) {
	addr := conformanceServer(t, zones.Config{TCPMaxConns: 64})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var held atomic.Int64
	var mu sync.Mutex
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: time.Second}
			for i := 0; i < 100 && ctx.Err() == nil; i++ {
				if c, err := d.Dial("tcp", addr); err == nil {
					mu.Lock()
					flood = append(flood, c)
					mu.Unlock()
					held.Add(1)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}, Timeout: time.Second}
	failed, worst := 0, time.Duration(0)
	for i := 0; i < 40; i++ {
		start := time.Now()
		c, err := d.Dial("tcp", addr)
		if err == nil {
			var m *dns.Msg
			m, err = tcpExchange(c, "example.com.", dns.TypeSOA)
			c.Close()
			if err == nil && m.Rcode != dns.RcodeSuccess {
				err = fmt.Errorf("rcode %d", m.Rcode)
			}
		}
		if took := time.Since(start); err != nil || took > time.Second {
			failed++
		} else {
			worst = max(worst, took)
		}
		time.Sleep(25 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	// The flooding client keeps its share (64/8) and no more.
	open := 0
	for _, c := range flood {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
			open++
		}
	}
	t.Logf("%d flood connections opened, %d still open; the second client: %d of 40 failed, slowest %v", held.Load(), open, failed, worst)
	if failed > 0 {
		t.Errorf("the second client had %d of 40 TCP queries fail or take over 1 s", failed)
	}
	if open > 8 {
		t.Errorf("the flooding client holds %d connections, over its share of 8", open)
	}
}

// TestReloadIsAtomic swaps between two versions of two zones whose data
// point at each other while clients query; every answer must come whole
// from one version.
func TestReloadIsAtomic(t *testing.T) {
	version := func(v string) *zones.Set {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "one.example"), []byte("$TTL 60\n@ SOA ns hm "+v+" 1 1 1 1\n NS ns\nns A 192.0.2.1\na CNAME v"+v+".two.example.\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "two.example"), []byte("$TTL 60\n@ SOA ns hm "+v+" 1 1 1 1\n NS ns\nns A 192.0.2.1\nv"+v+" TXT \""+v+"\"\n"), 0o644)
		return loadDir(t, dir)
	}
	s1, s2 := version("1"), version("2")
	addr, srv := startServer(t, s1, zones.Config{Minimal: true})
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			if i%2 == 0 {
				srv.Swap(s2)
			} else {
				srv.Swap(s1)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	// Until each version has answered many times: a test that never saw
	// a swap would prove nothing.
	seen := map[string]int{}
	for i := 0; i < 400 || seen["1"] < 50 || seen["2"] < 50; i++ {
		if i == 20000 {
			t.Fatalf("versions seen: %v after %d queries: the swaps did not interleave with them", seen, i)
		}
		r := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("a.one.example.", dns.TypeTXT))
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
			t.Fatalf("half-reloaded answer:\n%v", r)
		}
		cname, txt := r.Answer[0].(*dns.CNAME), r.Answer[1].(*dns.TXT)
		if v := txt.Txt[0]; cname.Target != "v"+v+".two.example." {
			t.Fatalf("an answer mixing versions:\n%v", r)
		}
		seen[txt.Txt[0]]++
	}
	stop.Store(true)
	wg.Wait()
}

// TestWildcardAddressReplies: bound to the unspecified address, the
// server answers from the address each query was sent to (127.0.0.2
// here), or a client's connected socket would drop the reply. Go opens
// ":0" as one IPv6 socket that IPv4 reaches too (dual-stack).
func TestWildcardAddressReplies(t *testing.T) {
	for _, tc := range []struct {
		network, addr string
		to            []string
	}{
		{"udp4", "0.0.0.0:0", []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}},
		{"udp", ":0", []string{"127.0.0.1", "127.0.0.2", "::1"}},
	} {
		t.Run(tc.network+" "+tc.addr, func(t *testing.T) {
			pc, err := net.ListenPacket(tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			port := pc.LocalAddr().(*net.UDPAddr).Port
			srv, err := zones.New(zones.Config{}, loadDir(t, "testdata/conformance"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { srv.ServePacket(ctx, pc); close(done) }()
			defer func() { cancel(); <-done; pc.Close() }()
			for _, ip := range tc.to {
				addr := net.JoinHostPort(ip, strconv.Itoa(port))
				r := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("example.com.", dns.TypeSOA))
				if len(r.Answer) != 1 {
					t.Errorf("%s: %v", addr, r)
				}
			}
		})
	}
}

func TestPublishTXT(t *testing.T) {
	addr, srv := startServer(t, loadDir(t, "testdata/conformance"), zones.Config{})
	if err := srv.PublishTXT("_acme-challenge.outside.example.", "x"); err == nil {
		t.Error("published outside every zone")
	}
	if err := srv.PublishTXT("www.example.com.", "x"); err == nil {
		t.Error("published at a name that is not _acme-challenge")
	}
	name := "_acme-challenge.Wild.example.com."
	for _, v := range []string{"token-1", "token-2"} {
		if err := srv.PublishTXT(name, v); err != nil {
			t.Fatal(err)
		}
	}
	txt := func() []string {
		r := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("_acme-challenge.wild.example.com.", dns.TypeTXT))
		if !r.Authoritative || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("not an authoritative answer: %v", r)
		}
		var out []string
		for _, rr := range r.Answer {
			out = append(out, rr.(*dns.TXT).Txt[0])
		}
		return out
	}
	if got := txt(); len(got) != 2 || got[0] != "token-1" || got[1] != "token-2" {
		t.Errorf("TXT %v", got)
	}
	if r := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("_acme-challenge.wild.example.com.", dns.TypeA)); len(r.Answer) != 0 || r.Rcode != dns.RcodeSuccess || len(r.Ns) != 1 {
		t.Errorf("A at a challenge name: %v", r)
	}
	srv.UnpublishTXT(name, "token-1")
	if got := txt(); len(got) != 1 || got[0] != "token-2" {
		t.Errorf("after removing one: %v", got)
	}
	srv.UnpublishTXT(name, "token-2")
	// Gone: the name falls back to the zone (here the wildcard *.wild has TXT).
	if r := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("_acme-challenge.wild.example.com.", dns.TypeTXT)); len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != "wildcard" {
		t.Errorf("after removing all: %v", r.Answer)
	}
}
