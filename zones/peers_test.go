//go:build peers

package zones_test

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/dnspeer"
	"islet.dev/islet/zones"
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

// TestCookiesLikeNSD: islet and NSD sharing a cookie secret issue the
// same server cookie to the same client in the same second (RFC 9018's
// interoperable cookies, which let anycast servers accept each other's).
func TestCookiesLikeNSD(t *testing.T) {
	dir, list := conformanceZones(t)
	key := [16]byte{0x5e, 0xc7, 0xe1, 0x01, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
	nsd := dnspeer.StartNSD(t, list, "cookie-secret: \""+hex.EncodeToString(key[:])+"\"")
	islet, _ := startServer(t, loadDir(t, dir), zones.Config{CookieSecret: key})
	ask := func(addr string) string {
		m := new(dns.Msg).SetQuestion("example.com.", dns.TypeSOA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "2464c4abcf10c957"})
		for _, o := range exchange(t, "udp", addr, m).IsEdns0().Option {
			if c, ok := o.(*dns.EDNS0_COOKIE); ok {
				return c.Cookie
			}
		}
		t.Fatalf("%s: no cookie in the answer", addr)
		return ""
	}
	var a, b string
	for try := 0; try < 5; try++ {
		start := time.Now().Unix()
		a, b = ask(nsd), ask(islet)
		if time.Now().Unix() == start && a == b {
			return
		}
	}
	t.Errorf("server cookies differ:\nnsd   %s\nislet %s", a, b)
}
