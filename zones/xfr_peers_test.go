//go:build peers

package zones_test

import (
	"context"
	"fmt"
	"log/slog"
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
