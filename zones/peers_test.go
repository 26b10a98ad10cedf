//go:build peers

package zones_test

import (
	"testing"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/dnspeer"
)

// TestConformanceNSD asks NSD and islet every conformance case: the two
// must agree, and NSD must still answer what nsd.golden says (-update
// records NSD's answers there).
func TestConformanceNSD(t *testing.T) {
	_, list := conformanceZones(t)
	comparePeer(t, "nsd", dnspeer.StartNSD(t, list))
}

// TestConformanceKnot does the same with Knot and knot.golden.
func TestConformanceKnot(t *testing.T) {
	_, list := conformanceZones(t)
	comparePeer(t, "knot", dnspeer.StartKnot(t, list))
}

func comparePeer(t *testing.T, name, peer string) {
	dir, _ := conformanceZones(t)
	islet, _ := startServer(t, loadDir(t, dir), peerConfig(name))
	path := goldenPath(name)
	cases := peerCases(name)
	answers := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.ask(t, peer)
			answers[tc.name] = want
			if got := tc.ask(t, islet); got != want {
				t.Errorf("%s %s:\n--- %s\n%s--- islet\n%s", tc.qname, dns.TypeToString[tc.qtype], name, want, got)
			}
		})
	}
	if *update {
		writeGolden(t, path, cases, answers)
		return
	}
	golden := readGolden(t, path)
	for _, tc := range cases {
		if golden[tc.name] != answers[tc.name] {
			t.Errorf("%s is stale for %q (go test -tags peers -run Conformance ./zones -update):\n--- golden\n%s--- %s now\n%s", path, tc.name, golden[tc.name], name, answers[tc.name])
		}
	}
}
