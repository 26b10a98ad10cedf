package zones_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

// startServer serves set on a free loopback port (UDP and TCP) for the
// length of the test and returns the address.
func startServer(t testing.TB, set *zones.Set, cfg zones.Config) (string, *zones.Server) {
	t.Helper()
	srv, err := zones.New(cfg, set)
	if err != nil {
		t.Fatal(err)
	}
	pc, ln := listenBoth(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { srv.ServePacket(ctx, pc); done <- struct{}{} }()
	go func() { srv.ServeStream(ctx, ln); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		pc.Close()
		ln.Close()
	})
	return pc.LocalAddr().String(), srv
}

// listenBoth opens a UDP and a TCP socket on one free loopback port. The
// port the kernel picks for UDP may be taken for TCP (another test's
// connection has it), so another is tried then.
func listenBoth(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
		if !errors.Is(err, syscall.EADDRINUSE) || try == 20 {
			t.Fatal(err)
		}
	}
}

func loadDir(t testing.TB, dir string) *zones.Set {
	t.Helper()
	set, diags, err := zones.LoadDir(dir)
	if err != nil {
		t.Fatalf("load %s: %v\n%v", dir, err, diags)
	}
	return set
}

// exchange sends m over net ("udp" or "tcp") and returns the response.
func exchange(t testing.TB, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 2 * time.Second, UDPSize: 65535}
	var r *dns.Msg
	var err error
	for i := 0; i < 3; i++ {
		if r, _, err = c.Exchange(m, addr); err == nil {
			return r
		}
	}
	t.Fatalf("%s %s %s: %v", network, addr, m.Question[0].String(), err)
	return nil
}

// render prints a response the way dig does, records sorted within each
// section so that two servers' answers compare as RRsets. TTLs, the
// question and the case of every name are kept as they came.
func render(r *dns.Msg) string {
	var b strings.Builder
	b.WriteString("opcode=" + dns.OpcodeToString[r.Opcode] + " rcode=" + dns.RcodeToString[r.Rcode])
	flag := func(name string, on bool) {
		if on {
			b.WriteString(" " + name)
		}
	}
	flag("aa", r.Authoritative)
	flag("tc", r.Truncated)
	flag("ra", r.RecursionAvailable)
	flag("rd", r.RecursionDesired)
	if opt := r.IsEdns0(); opt != nil {
		b.WriteString(" edns")
		flag("do", opt.Do())
	}
	b.WriteString("\n")
	for _, q := range r.Question {
		b.WriteString("QUESTION: " + strings.Join(strings.Fields(q.String()[1:]), " ") + "\n")
	}
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
	}{{"ANSWER", r.Answer}, {"AUTHORITY", r.Ns}, {"ADDITIONAL", r.Extra}} {
		var lines []string
		for _, rr := range sec.rrs {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			lines = append(lines, strings.Join(strings.Fields(rr.String()), " "))
		}
		if len(lines) == 0 {
			continue
		}
		sort.Strings(lines)
		b.WriteString(sec.name + ":\n  " + strings.Join(lines, "\n  ") + "\n")
	}
	return b.String()
}

// zoneText is the zone transferred from addr, one record a line,
// lowercase and sorted, the closing SOA left out.
func zoneText(t *testing.T, addr, secret string) string {
	t.Helper()
	rrs, _, err := transfer(addr, dns.TypeAXFR, 0, secret)
	if err != nil {
		t.Fatalf("AXFR from %s: %v", addr, err)
	}
	var lines []string
	for _, rr := range rrs[:len(rrs)-1] {
		lines = append(lines, strings.ToLower(rr.String()))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

// lockedLog is a log written by the server's goroutines and read by the
// test.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
