package zones_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

// serialOf is the serial addr serves for example.com, 0 without one;
// rcode is the answer's.
func serialOf(addr string) (serial uint32, rcode int) {
	r, err := dns.Exchange(new(dns.Msg).SetQuestion("example.com.", dns.TypeSOA), addr)
	if err != nil {
		return 0, -1
	}
	if len(r.Answer) == 0 {
		return 0, r.Rcode
	}
	return r.Answer[0].(*dns.SOA).Serial, r.Rcode
}

func waitSerial(t *testing.T, addr string, want uint32, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		got, _ := serialOf(addr)
		if got == want {
			return
		}
		if time.Since(start) > within {
			t.Fatalf("%s serves serial %d after %v, want %d", addr, got, within, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFollow: islet as a secondary of islet. The first transfer is an
// AXFR; a NOTIFY from the primary brings the next version by IXFR; the
// zone is kept and served at once after a restart; NOTIFY from others
// is refused; a zone whose primary is gone expires to SERVFAIL.
func TestFollow(t *testing.T) {
	zdir, keep := t.TempDir(), t.TempDir()
	zone := func(serial int, www string, expire int) *zones.Set {
		text := fmt.Sprintf("$TTL 60\n@ SOA ns1 hostmaster %d 3600 600 %d 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A %s\nmail A 192.0.2.25\n", serial, expire, www)
		if err := os.WriteFile(filepath.Join(zdir, "example.com.zone"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return loadDir(t, zdir)
	}
	empty := zones.NewSet()
	var logs lockedLog
	scfg := xfrConfig("127.0.0.1")
	scfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	secAddr, sec := startServer(t, empty, scfg)
	j, _ := zones.NewJournal("", 0)
	set1 := zone(1, "192.0.2.80", 86400)
	j.Record(nil, set1.Zones()[0])
	pcfg := xfrConfig("127.0.0.1@" + xfrKeyName)
	pcfg.Journal = j
	n, _ := zones.ParseNotifyTarget(secAddr + "@" + xfrKeyName)
	pcfg.Notify = []zones.NotifyTarget{n}
	primAddr, prim := startServer(t, set1, pcfg)
	follow := func(srv *zones.Server, dir string) context.CancelFunc {
		s, err := zones.ParseSecondary("example.com=" + primAddr + "@" + xfrKeyName)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.Follow(ctx, []zones.Secondary{s}, dir); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return cancel
	}
	follow(sec, keep)
	waitSerial(t, secAddr, 1, 5*time.Second)

	set2 := zone(2, "192.0.2.81", 86400)
	j.Record(set1.Zones()[0], set2.Zones()[0])
	prim.Swap(set2)
	go prim.Notify(context.Background(), set2.Zones())
	waitSerial(t, secAddr, 2, 3*time.Second)
	if got, want := zoneText(t, secAddr, xfrSecret), zoneText(t, primAddr, xfrSecret); got != want {
		t.Errorf("after the IXFR the secondary serves other records:\n%s", lineDiff(want, got))
	}
	// the transfer is logged before the zone is served
	if !strings.Contains(logs.String(), `type="IXFR, 1 changes" serial=2`) {
		t.Errorf("the second transfer was not an IXFR:\n%s", logs.String())
	}

	// A reload of the zone files keeps the zones followed.
	sec.Swap(zones.NewSet())
	if got, _ := serialOf(secAddr); got != 2 {
		t.Errorf("after a reload of no zone files the secondary serves serial %d, want 2", got)
	}

	// NOTIFY unsigned, or for a zone not followed
	for _, tc := range []struct {
		zone  string
		rcode int
	}{{"example.com.", dns.RcodeRefused}, {"example.org.", dns.RcodeNotAuth}} {
		m := new(dns.Msg).SetNotify(tc.zone)
		if r, err := dns.Exchange(m, secAddr); err != nil || r.Rcode != tc.rcode {
			t.Errorf("unsigned NOTIFY for %s: %v, %v; want %s", tc.zone, r, err, dns.RcodeToString[tc.rcode])
		}
	}

	// A restart: the kept copy is served at once.
	again, restarted := startServer(t, zones.NewSet(), xfrConfig())
	prim.Swap(zones.NewSet()) // no refresh can help
	stopAgain := follow(restarted, keep)
	waitSerial(t, again, 2, time.Second)
	stopAgain()
	prim.Swap(set2)

	// An expire time of 2 s, then the primary stops answering.
	set3 := zone(3, "192.0.2.82", 2)
	j.Record(set2.Zones()[0], set3.Zones()[0])
	prim.Swap(set3)
	go prim.Notify(context.Background(), set3.Zones())
	waitSerial(t, secAddr, 3, 3*time.Second)
	prim.Swap(zones.NewSet())
	start := time.Now()
	for _, rcode := serialOf(secAddr); rcode != dns.RcodeServerFailure; _, rcode = serialOf(secAddr) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the secondary answers %s 5 s after its primary stopped, with an expire time of 2 s", dns.RcodeToString[rcode])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFollowBadTransfer: a primary whose next version is not a valid
// zone (no NS), or whose transfer is cut before its last SOA, leaves the
// version served before, and the failure is logged with its reason.
func TestFollowBadTransfer(t *testing.T) {
	var serial atomic.Uint32
	serial.Store(1)
	records := func() []dns.RR {
		n := serial.Load()
		soa, _ := dns.NewRR(fmt.Sprintf("example.com. 60 IN SOA ns1.example.com. hm.example.com. %d 3600 600 86400 60", n))
		out := []dns.RR{soa}
		if n == 1 {
			ns, _ := dns.NewRR("example.com. 60 IN NS ns1.example.com.")
			a, _ := dns.NewRR("ns1.example.com. 60 IN A 192.0.2.53")
			out = append(out, ns, a)
		}
		www, _ := dns.NewRR(fmt.Sprintf("www.example.com. 60 IN A 192.0.2.%d", n))
		if n == 3 {
			// valid records, but the transfer is cut before its last SOA
			ns, _ := dns.NewRR("example.com. 60 IN NS ns1.example.com.")
			a, _ := dns.NewRR("ns1.example.com. 60 IN A 192.0.2.53")
			return append(out, ns, a, www)
		}
		return append(out, www, soa)
	}
	pc, ln := listenBoth(t)
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, m *dns.Msg) {
		rrs := records()
		if q := m.Question[0].Qtype; q == dns.TypeAXFR || q == dns.TypeIXFR {
			ch := make(chan *dns.Envelope, 1)
			ch <- &dns.Envelope{RR: rrs}
			close(ch)
			(&dns.Transfer{}).Out(w, m, ch)
			w.Close()
			return
		}
		r := new(dns.Msg).SetReply(m)
		r.Answer = rrs[:1]
		w.WriteMsg(r)
	})
	udp, tcp := &dns.Server{PacketConn: pc, Handler: handler}, &dns.Server{Listener: ln, Handler: handler}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	defer udp.Shutdown()
	defer tcp.Shutdown()

	var logs lockedLog
	cfg := zones.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	addr, srv := startServer(t, zones.NewSet(), cfg)
	sec, _ := zones.ParseSecondary("example.com=" + pc.LocalAddr().String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Follow(ctx, []zones.Secondary{sec}, ""); close(done) }()
	defer func() { cancel(); <-done }()
	waitSerial(t, addr, 1, 5*time.Second)

	serial.Store(2)
	if _, err := dns.Exchange(new(dns.Msg).SetNotify("example.com."), addr); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); !strings.Contains(logs.String(), "makes an invalid zone"); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 3*time.Second {
			t.Fatalf("no failed refresh logged; log:\n%s", logs.String())
		}
	}
	if got, _ := serialOf(addr); got != 1 || !strings.Contains(logs.String(), "no NS records") {
		t.Errorf("after an invalid transfer: serial %d, want 1 still served; log:\n%s", got, logs.String())
	}

	// a transfer cut short
	serial.Store(3)
	failures := strings.Count(logs.String(), "refresh failed")
	if _, err := dns.Exchange(new(dns.Msg).SetNotify("example.com."), addr); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); strings.Count(logs.String(), "refresh failed") == failures; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no failed refresh logged after a cut transfer; log:\n%s", logs.String())
		}
	}
	if got, _ := serialOf(addr); got != 1 {
		t.Errorf("after a transfer cut short: serial %d, want 1 still served; log:\n%s", got, logs.String())
	}
}

// TestChallengeReachesSecondaries: with transfers, an ACME challenge
// record goes into a new version of the zone; WaitPublished returns once
// the secondary serves that version, which then holds the record; it is
// withdrawn the same way. A secondary that never catches up makes
// WaitPublished fail at its deadline.
func TestChallengeReachesSecondaries(t *testing.T) {
	zdir := t.TempDir()
	text := "$TTL 60\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.53\n"
	if err := os.WriteFile(filepath.Join(zdir, "example.com.zone"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	set := loadDir(t, zdir)
	secAddr, sec := startServer(t, zones.NewSet(), xfrConfig("127.0.0.1"))
	pcfg := xfrConfig("127.0.0.1@" + xfrKeyName)
	n, _ := zones.ParseNotifyTarget(secAddr + "@" + xfrKeyName)
	pcfg.Notify = []zones.NotifyTarget{n}
	pcfg.Journal, _ = zones.NewJournal("", 0)
	pcfg.Journal.Record(nil, set.Zones()[0])
	primAddr, prim := startServer(t, set, pcfg)
	s, _ := zones.ParseSecondary("example.com=" + primAddr + "@" + xfrKeyName)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sec.Follow(ctx, []zones.Secondary{s}, ""); close(done) }()
	defer func() { cancel(); <-done }()
	waitSerial(t, secAddr, 1, 5*time.Second)

	txt := func(addr string) []string {
		r, err := dns.Exchange(new(dns.Msg).SetQuestion("_acme-challenge.example.com.", dns.TypeTXT), addr)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, rr := range r.Answer {
			out = append(out, rr.(*dns.TXT).Txt[0])
		}
		return out
	}
	const name = "_acme-challenge.example.com."
	if err := prim.PublishTXT(name, "token-1"); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := prim.WaitPublished(wctx, name); err != nil {
		t.Fatal(err)
	}
	if got := txt(secAddr); len(got) != 1 || got[0] != "token-1" {
		t.Errorf("the secondary answers %q right after WaitPublished, want the challenge", got)
	}
	if got := txt(primAddr); len(got) != 1 {
		t.Errorf("the primary answers %q, want the challenge once", got)
	}
	prim.UnpublishTXT(name, "token-1")
	if err := prim.WaitPublished(wctx, name); err != nil {
		t.Fatal(err)
	}
	if got := txt(secAddr); len(got) != 0 {
		t.Errorf("the secondary still answers %q after the challenge was withdrawn", got)
	}

	// The secondary stops following: the next challenge never reaches it.
	cancel()
	<-done
	done = make(chan struct{})
	close(done)
	if err := prim.PublishTXT(name, "token-2"); err != nil {
		t.Fatal(err)
	}
	short, scancel := context.WithTimeout(context.Background(), time.Second)
	defer scancel()
	if err := prim.WaitPublished(short, name); err == nil || !strings.Contains(err.Error(), "not yet") {
		t.Errorf("WaitPublished with a secondary left behind: %v", err)
	}
}
