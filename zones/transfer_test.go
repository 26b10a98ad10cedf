package zones_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

func example(t *testing.T, serial, addr string) *zones.Zone {
	t.Helper()
	z, _, err := zones.Build("example.com.", "AXFR from 192.0.2.1:53", rrs(t,
		"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. "+serial+" 7200 3600 1209600 300",
		"example.com. 3600 IN NS ns1.example.com.",
		"ns1.example.com. 3600 IN A 192.0.2.53",
		"www.example.com. 3600 IN A "+addr,
	))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestBuild: records from a transfer make a zone validated as a file
// is, and the problems name the source and the record's position.
func TestBuild(t *testing.T) {
	z := example(t, "7", "192.0.2.80")
	if z.Origin != "example.com." || z.Serial() != 7 || z.Records() != 4 {
		t.Errorf("zone %s serial %d, %d records", z.Origin, z.Serial(), z.Records())
	}
	for _, tc := range []struct {
		name, origin string
		rrs          []string
		want         string
	}{
		{"record outside the zone", "example.com.", []string{
			"example.com. 60 IN SOA ns hm 1 2 3 4 5", "example.com. 60 IN NS ns.example.com.", "ns.example.com. 60 IN A 192.0.2.1", "www.example.net. 60 IN A 192.0.2.2",
		}, "AXFR from 192.0.2.1:53:4: error: www.example.net. is outside the zone example.com."},
		{"no NS", "example.com.", []string{"example.com. 60 IN SOA ns hm 1 2 3 4 5"}, "AXFR from 192.0.2.1:53:1: error: no NS records"},
		{"SOA elsewhere", "example.org.", []string{
			"example.com. 60 IN SOA ns hm 1 2 3 4 5", "example.com. 60 IN NS ns.example.com.", "ns.example.com. 60 IN A 192.0.2.1",
		}, "error: the SOA is at example.com., not at the zone's origin example.org."},
		{"nothing", "example.com.", nil, "error: zone is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, diags, err := zones.Build(tc.origin, "AXFR from 192.0.2.1:53", rrs(t, tc.rrs...))
			if err == nil || z != nil {
				t.Fatal("built")
			}
			if !strings.Contains(fmt.Sprint(diags), tc.want) {
				t.Errorf("diagnostics %q lack %q", fmt.Sprint(diags), tc.want)
			}
		})
	}
}

// TestSwapZone: one zone is replaced, the others answer as before, and
// an answer that follows a CNAME into the replaced zone (compiled
// against the set before) follows it into the new one.
func TestSwapZone(t *testing.T) {
	dir, _ := conformanceZones(t)
	addr, srv := startServer(t, loadDir(t, dir), zones.Config{Minimal: true})
	a := func(name string, qtype uint16) []dns.RR {
		return exchange(t, "udp", addr, new(dns.Msg).SetQuestion(name, qtype)).Answer
	}
	// alias.example.net. CNAME www.example.com. CNAME example.com.
	if got := a("alias.example.net.", dns.TypeCNAME); len(got) != 1 {
		t.Fatalf("alias.example.net. CNAME: %v", got)
	}
	before := a("alias.example.net.", dns.TypeA)
	if len(before) != 3 {
		t.Fatalf("alias.example.net. A before: %v", before)
	}
	old := srv.SwapZone(example(t, "8", "192.0.2.88"))
	if old == nil || old.Origin != "example.com." || old.Serial() != 2026112301 {
		t.Fatalf("replaced %v", old)
	}
	if got := a("www.example.com.", dns.TypeA); len(got) != 1 || got[0].(*dns.A).A.String() != "192.0.2.88" {
		t.Errorf("www.example.com. A after the swap: %v", got)
	}
	if got := a("alias.example.net.", dns.TypeA); len(got) != 2 || got[1].(*dns.A).A.String() != "192.0.2.88" {
		t.Errorf("alias.example.net. A after the swap (compiled against the old set?): %v", got)
	}
	if got := a("child.example.com.", dns.TypeSOA); len(got) != 1 {
		t.Errorf("the child zone is gone: %v", got)
	}
	added, _, err := zones.Build("example.org.", "test", rrs(t,
		"example.org. 60 IN SOA ns.example.org. hm.example.org. 1 2 3 4 5", "example.org. 60 IN NS ns.example.org.", "ns.example.org. 60 IN A 192.0.2.9"))
	if err != nil {
		t.Fatal(err)
	}
	if old := srv.SwapZone(added); old != nil {
		t.Errorf("a new zone replaced %s", old.Origin)
	}
	if got := a("ns.example.org.", dns.TypeA); len(got) != 1 {
		t.Errorf("the added zone does not answer: %v", got)
	}
	if n := len(srv.Zones().Zones()); n != 4 {
		t.Errorf("%d zones, want 4", n)
	}
}
