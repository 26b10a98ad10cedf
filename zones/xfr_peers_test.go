//go:build peers

package zones_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/dnspeer"
	"islet.dev/islet/zones"
)

// TestSecondaries: NSD, Knot and BIND, configured as secondaries of islet
// with a TSIG key, transfer the zone at start (AXFR, every message
// signed), and after a reload and islet's signed NOTIFY get the
// difference by IXFR and serve the new serial within 3 s; what they then
// serve is what islet serves.
func TestSecondaries(t *testing.T) {
	dir := t.TempDir()
	set := loadDir(t, bigZone(t, dir, 1, 2000))
	key := dnspeer.Key{Name: xfrKeyName, Algorithm: "hmac-sha256", Secret: xfrSecret}
	nsdPort, knotPort, bindPort := dnspeer.FreePort(t), dnspeer.FreePort(t), dnspeer.FreePort(t)
	cfg := xfrConfig("127.0.0.1@" + xfrKeyName)
	for _, port := range []int{nsdPort, knotPort, bindPort} {
		n, err := zones.ParseNotifyTarget(fmt.Sprintf("127.0.0.1:%d@%s", port, xfrKeyName))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Notify = append(cfg.Notify, n)
	}
	j, err := zones.NewJournal("", 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Journal = j
	var logs lockedLog
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := j.Record(nil, set.Zones()[0]); err != nil {
		t.Fatal(err)
	}
	primary, srv := startServer(t, set, cfg)
	secondaries := map[string]string{
		"nsd":  dnspeer.StartNSDSecondary(t, nsdPort, "example.com.", primary, key),
		"knot": dnspeer.StartKnotSecondary(t, knotPort, "example.com.", primary, key),
		"bind": dnspeer.StartBINDSecondary(t, bindPort, "example.com.", primary, key),
	}
	for name, addr := range secondaries {
		if got := soaSerial(t, addr); got != 1 {
			t.Errorf("%s serves serial %d after its first transfer, want 1", name, got)
		}
	}

	// A new version of the zone: a record changed, one added, which
	// the secondaries get by IXFR.
	bigZone(t, dir, 2, 2001)
	prev := set.Zones()[0]
	set = loadDir(t, dir)
	if _, err := j.Record(prev, set.Zones()[0]); err != nil {
		t.Fatal(err)
	}
	srv.Swap(set)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go srv.Notify(ctx, set.Zones())
	for name, addr := range secondaries {
		for soaSerial(t, addr) != 2 {
			if time.Since(start) > 3*time.Second {
				t.Fatalf("%s still serves serial %d 3 s after the NOTIFY", name, soaSerial(t, addr))
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s serves serial 2 %v after the NOTIFY", name, time.Since(start).Round(time.Millisecond))
	}
	if n := strings.Count(logs.String(), `type="IXFR, 1 changes"`); n != len(secondaries) {
		t.Errorf("%d incremental transfers, want one per secondary; islet's log:\n%s", n, logs.String())
	}
	want := zoneText(t, primary, xfrSecret)
	for name, addr := range secondaries {
		if got := zoneText(t, addr, ""); got != want {
			t.Errorf("%s serves other records than islet:\n%s", name, lineDiff(want, got))
		}
	}
}

func soaSerial(t *testing.T, addr string) uint32 {
	t.Helper()
	r, err := dns.Exchange(new(dns.Msg).SetQuestion("example.com.", dns.TypeSOA), addr)
	if err != nil || len(r.Answer) == 0 {
		return 0
	}
	return r.Answer[0].(*dns.SOA).Serial
}

// TestFollowPeers: islet as the secondary of NSD, Knot and BIND, with a
// key: the first transfer at start, then, after an edit and the
// primary's reload, its NOTIFY brings the new serial within 3 s, by
// IXFR from Knot and BIND (NSD 4.6 answers IXFR with the whole zone),
// and islet serves what the primary serves. Then islet stops following
// while the primary goes through two more versions, and at its restart
// (the copy kept in its folder) brings them in by one IXFR of two
// changes.
func TestFollowPeers(t *testing.T) {
	key := dnspeer.Key{Name: xfrKeyName, Algorithm: "hmac-sha256", Secret: xfrSecret}
	for _, kind := range []string{"nsd", "knot", "bind"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "example.com.zone")
			write := func(serial int, www string) {
				text := fmt.Sprintf("$TTL 60\n@ SOA ns1 hostmaster %d 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.53\nwww A %s\n", serial, www)
				for i := range 300 {
					text += fmt.Sprintf("h%d A 198.51.100.%d\n", i, i%250+1)
				}
				if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write(1, "192.0.2.80")
			var logs lockedLog
			cfg := xfrConfig("127.0.0.1")
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			addr, srv := startServer(t, zones.NewSet(), cfg)
			primary := dnspeer.StartPrimary(t, kind, "example.com.", file, addr, key)
			sec, err := zones.ParseSecondary("example.com=" + primary.Addr + "@" + xfrKeyName)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			keep := t.TempDir()
			go func() { srv.Follow(ctx, []zones.Secondary{sec}, keep); close(done) }()
			defer func() { cancel(); <-done }()
			waitSerial(t, addr, 1, 5*time.Second)

			time.Sleep(1100 * time.Millisecond) // a file time the primary sees as newer
			write(2, "192.0.2.81")
			if err := primary.Reload(); err != nil {
				t.Fatal(err)
			}
			for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
				if got, _ := serialOf(addr); got == 2 {
					break
				}
				if time.Since(start) > 3*time.Second {
					t.Fatalf("islet does not serve serial 2 3 s after %s reloaded; islet's log:\n%s\n%s's log:\n%s", kind, logs.String(), kind, peerLog(primary))
				}
			}
			if got, want := zoneText(t, addr, ""), zoneText(t, primary.Addr, xfrSecret); got != want {
				t.Errorf("islet serves other records than %s:\n%s", kind, lineDiff(want, got))
			}
			// the transfer is logged before the zone is served
			if kind != "nsd" && !strings.Contains(logs.String(), `type="IXFR, 1 changes" serial=2`) {
				t.Errorf("the second transfer from %s was not an IXFR:\n%s", kind, logs.String())
			}

			// Two versions while islet is away, then a restart.
			cancel()
			<-done
			for serial := 3; serial <= 4; serial++ {
				time.Sleep(1100 * time.Millisecond)
				write(serial, fmt.Sprintf("192.0.2.%d", 80+serial))
				if err := primary.Reload(); err != nil {
					t.Fatal(err)
				}
				waitSerial(t, primary.Addr, uint32(serial), 5*time.Second)
			}
			addr2, srv2 := startServer(t, zones.NewSet(), cfg)
			ctx2, cancel2 := context.WithCancel(context.Background())
			done2 := make(chan struct{})
			go func() { srv2.Follow(ctx2, []zones.Secondary{sec}, keep); close(done2) }()
			defer func() { cancel2(); <-done2 }()
			waitSerial(t, addr2, 4, 5*time.Second)
			if got, want := zoneText(t, addr2, ""), zoneText(t, primary.Addr, xfrSecret); got != want {
				t.Errorf("after the restart islet serves other records than %s:\n%s", kind, lineDiff(want, got))
			}
			want := `type="IXFR, 2 changes" serial=4`
			if kind == "nsd" {
				want = `type="IXFR answered with the whole zone" serial=4`
			}
			if !strings.Contains(logs.String(), want) {
				t.Errorf("the transfer after the restart from %s: no %s in the log:\n%s", kind, want, logs.String())
			}
		})
	}
}

// TestCatalog: Knot and BIND, given islet's catalog zone alone, serve
// every zone it lists, and a zone added later, after the reload and
// NOTIFY of the catalog.
func TestCatalog(t *testing.T) {
	dir := t.TempDir()
	add := func(name string) {
		text := fmt.Sprintf("$TTL 60\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.53\nwww TXT %q\n", name)
		if err := os.WriteFile(filepath.Join(dir, name+".zone"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func() *zones.Set {
		set := loadDir(t, dir)
		cat, err := zones.Catalog("catalog.invalid", set.Zones())
		if err != nil {
			t.Fatal(err)
		}
		return set.With(cat)
	}
	add("a.example")
	add("b.example")
	set := load()
	j, _ := zones.NewJournal("", 0)
	for _, z := range set.Zones() {
		j.Record(nil, z)
	}
	key := dnspeer.Key{Name: xfrKeyName, Algorithm: "hmac-sha256", Secret: xfrSecret}
	ports := map[string]int{"knot": dnspeer.FreePort(t), "bind": dnspeer.FreePort(t)}
	cfg := xfrConfig("127.0.0.1@" + xfrKeyName)
	cfg.Journal = j
	for _, port := range ports {
		n, _ := zones.ParseNotifyTarget(fmt.Sprintf("127.0.0.1:%d@%s", port, xfrKeyName))
		cfg.Notify = append(cfg.Notify, n)
	}
	primary, srv := startServer(t, set, cfg)
	consumers, peers := map[string]string{}, map[string]*dnspeer.Peer{}
	for kind, port := range ports {
		peers[kind] = dnspeer.StartCatalogConsumer(t, kind, port, "catalog.invalid.", primary, key)
		consumers[kind] = peers[kind].Addr
	}
	serves := func(addr, zone string) bool {
		r, err := dns.Exchange(new(dns.Msg).SetQuestion("www."+zone+".", dns.TypeTXT), addr)
		return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	}
	wait := func(zone string) {
		t.Helper()
		for kind, addr := range consumers {
			for start := time.Now(); !serves(addr, zone); time.Sleep(50 * time.Millisecond) {
				if time.Since(start) > 15*time.Second {
					t.Fatalf("%s does not serve %s from the catalog after 15 s; its log:\n%s", kind, zone, peerLog(peers[kind]))
				}
			}
		}
	}
	wait("a.example")
	wait("b.example")

	add("c.example")
	next := load()
	for _, z := range next.Zones() {
		var prev *zones.Zone
		if o := set.ZoneFor(z.Origin); o != nil && o.Origin == z.Origin {
			prev = o
		}
		if _, err := j.Record(prev, z); err != nil {
			t.Fatal(err)
		}
	}
	srv.Swap(next)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go srv.Notify(ctx, next.Zones())
	wait("c.example")
}

// peerLog is what a peer logged, for a failure's message.
func peerLog(p *dnspeer.Peer) string {
	a, _ := os.ReadFile(p.Log)
	b, _ := os.ReadFile(p.Log + ".out")
	return string(a) + string(b)
}
