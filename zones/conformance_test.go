package zones_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/dnspeer"
	"islet.dev/islet/zones"
)

// A conformance case is one query sent to islet and to a peer serving
// the same zone files (testdata/conformance).
type conformanceCase struct {
	name   string
	qname  string
	qtype  uint16
	tcp    bool
	edns   int // UDP size in an OPT record; 0: no EDNS
	modify func(m *dns.Msg)
	// notKnot marks cases where Knot differs from NSD and islet follows
	// NSD; why is said in the case name and in zones/README.md.
	notKnot bool
	// notNSD marks cases where NSD differs and islet follows Knot.
	notNSD bool
}

var conformanceCases = []conformanceCase{
	{name: "apex SOA", qname: "example.com.", qtype: dns.TypeSOA},
	{name: "apex NS", qname: "example.com.", qtype: dns.TypeNS},
	{name: "apex MX with in-zone additional", qname: "example.com.", qtype: dns.TypeMX},
	{name: "apex TXT", qname: "example.com.", qtype: dns.TypeTXT},
	{name: "apex CAA", qname: "example.com.", qtype: dns.TypeCAA},
	{name: "apex AAAA", qname: "example.com.", qtype: dns.TypeAAAA},
	{name: "NODATA at the apex", qname: "example.com.", qtype: dns.TypeSRV},
	{name: "A with NS address as answer", qname: "ns1.example.com.", qtype: dns.TypeA},
	{name: "mixed-case query", qname: "WwW.ExAmPlE.CoM.", qtype: dns.TypeA},
	{name: "mixed-case owner in zone", qname: "mixedcase.example.com.", qtype: dns.TypeA},
	{name: "CNAME to apex", qname: "www.example.com.", qtype: dns.TypeA},
	{name: "CNAME asked for CNAME", qname: "www.example.com.", qtype: dns.TypeCNAME},
	{name: "CNAME chain", qname: "chain1.example.com.", qtype: dns.TypeA},
	{name: "CNAME to CNAME", qname: "blog.example.com.", qtype: dns.TypeAAAA},
	{name: "CNAME loop", qname: "loop1.example.com.", qtype: dns.TypeA},
	{name: "CNAME out of our zones", qname: "out.example.com.", qtype: dns.TypeA},
	{name: "CNAME to a missing name (NXDOMAIN)", qname: "dangling.example.com.", qtype: dns.TypeA},
	{name: "CNAME into a delegation", qname: "todeleg.example.com.", qtype: dns.TypeA},
	{name: "CNAME into a child zone we serve (Knot stops at the cut)", qname: "tochild.example.com.", qtype: dns.TypeA, notKnot: true},
	{name: "CNAME across zones (Knot does not follow)", qname: "alias.example.net.", qtype: dns.TypeA, notKnot: true},
	{name: "NXDOMAIN", qname: "nx.example.com.", qtype: dns.TypeA},
	{name: "NXDOMAIN deep", qname: "a.b.nx.example.com.", qtype: dns.TypeTXT},
	{name: "NODATA", qname: "mail.example.com.", qtype: dns.TypeMX},
	{name: "empty non-terminal is NODATA", qname: "b.c.example.com.", qtype: dns.TypeA},
	{name: "empty non-terminal, one up", qname: "c.example.com.", qtype: dns.TypeA},
	{name: "below an empty non-terminal", qname: "x.b.c.example.com.", qtype: dns.TypeA},
	{name: "wildcard A", qname: "x.wild.example.com.", qtype: dns.TypeA},
	{name: "wildcard deep", qname: "a.b.x.wild.example.com.", qtype: dns.TypeTXT},
	{name: "wildcard MX with additional", qname: "x.wild.example.com.", qtype: dns.TypeMX},
	{name: "wildcard NODATA", qname: "x.wild.example.com.", qtype: dns.TypeAAAA},
	{name: "wildcard asked directly", qname: "*.wild.example.com.", qtype: dns.TypeA},
	{name: "wildcard blocked by existing name", qname: "exists.wild.example.com.", qtype: dns.TypeTXT},
	{name: "below an existing name under a wildcard", qname: "x.exists.wild.example.com.", qtype: dns.TypeA},
	{name: "wildcard CNAME chased", qname: "x.wc.example.com.", qtype: dns.TypeA},
	{name: "wildcard owner case kept", qname: "MiXeD.wild.example.com.", qtype: dns.TypeA},
	{name: "referral at the cut", qname: "deleg.example.com.", qtype: dns.TypeA},
	{name: "referral below the cut", qname: "host.deleg.example.com.", qtype: dns.TypeA},
	{name: "referral for NS at the cut", qname: "deleg.example.com.", qtype: dns.TypeNS},
	{name: "glue asked directly is a referral", qname: "ns.deleg.example.com.", qtype: dns.TypeA},
	{name: "DS at the cut answered by the parent", qname: "deleg.example.com.", qtype: dns.TypeDS},
	{name: "DS at a child zone we serve: from the parent", qname: "child.example.com.", qtype: dns.TypeDS},
	{name: "child zone answers for its names", qname: "www.child.example.com.", qtype: dns.TypeA},
	{name: "child zone apex SOA", qname: "child.example.com.", qtype: dns.TypeSOA},
	{name: "child zone apex NS", qname: "child.example.com.", qtype: dns.TypeNS},
	{name: "DNAME synthesis (Knot does not follow into example.net)", qname: "x.dn.example.com.", qtype: dns.TypeA, notKnot: true},
	{name: "DNAME to a name that exists (Knot does not follow)", qname: "www.dn.example.com.", qtype: dns.TypeA, notKnot: true},
	{name: "DNAME asked directly", qname: "dn.example.com.", qtype: dns.TypeDNAME},
	{name: "DNAME owner, other type", qname: "dn.example.com.", qtype: dns.TypeA},
	{name: "DNAME to a long target", qname: "x.long.example.com.", qtype: dns.TypeA},
	{name: "SRV with additional", qname: "_sip._tcp.example.com.", qtype: dns.TypeSRV},
	{name: "SSHFP", qname: "sshfp.example.com.", qtype: dns.TypeSSHFP},
	{name: "TLSA", qname: "_443._tcp.www.example.com.", qtype: dns.TypeTLSA},
	{name: "HTTPS", qname: "svc.example.com.", qtype: dns.TypeHTTPS},
	{name: "NAPTR", qname: "naptr.example.com.", qtype: dns.TypeNAPTR},
	{name: "PTR", qname: "ptr.example.com.", qtype: dns.TypePTR},
	{name: "unknown type RFC 3597", qname: "unknown.example.com.", qtype: 65280},
	{name: "ANY below the apex", qname: "mail.example.com.", qtype: dns.TypeANY},
	{name: "ANY at a wildcard", qname: "x.wild.example.com.", qtype: dns.TypeANY},
	{name: "ANY at an empty non-terminal", qname: "b.c.example.com.", qtype: dns.TypeANY},
	{name: "ANY at the apex (Knot picks A, NSD and islet the first RRset)", qname: "example.com.", qtype: dns.TypeANY, notKnot: true},
	{name: "REFUSED outside our zones", qname: "www.example.org.", qtype: dns.TypeA},
	{name: "REFUSED for the root", qname: ".", qtype: dns.TypeNS},
	{name: "AXFR refused (Knot says NOTAUTH)", qname: "example.com.", qtype: dns.TypeAXFR, tcp: true, notKnot: true},
	{name: "TCP answer", qname: "example.com.", qtype: dns.TypeMX, tcp: true},
	{name: "TCP big answer", qname: "big.example.com.", qtype: dns.TypeTXT, tcp: true},
	{name: "UDP big answer truncated without EDNS", qname: "big.example.com.", qtype: dns.TypeTXT},
	{name: "UDP big answer with EDNS 1232", qname: "big.example.com.", qtype: dns.TypeTXT, edns: 1232},
	{name: "EDNS answer", qname: "example.com.", qtype: dns.TypeA, edns: 1232},
	{name: "EDNS small size treated as 512", qname: "example.com.", qtype: dns.TypeMX, edns: 100},
	{name: "EDNS DO bit echoed", qname: "example.com.", qtype: dns.TypeA, edns: 1232, modify: func(m *dns.Msg) { m.IsEdns0().SetDo() }},
	{name: "EDNS version 1 gets BADVERS", qname: "example.com.", qtype: dns.TypeA, edns: 1232, modify: func(m *dns.Msg) { m.IsEdns0().SetVersion(1) }},
	{name: "RD copied, RA never set", qname: "example.com.", qtype: dns.TypeA, modify: func(m *dns.Msg) { m.RecursionDesired = true }},
	{name: "unknown opcode (NSD leaves the question out of NOTIMP, Knot and islet echo it)", qname: "example.com.", qtype: dns.TypeA, modify: func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }, notNSD: true},
	{name: "CNAME loop through a wildcard stops where a name comes again", qname: "a.wcl.example.com.", qtype: dns.TypeA},
	{name: "CNAME loop across two wildcards", qname: "x.wc2.example.com.", qtype: dns.TypeA},
	{name: "MAILA is NODATA", qname: "example.com.", qtype: dns.TypeMAILA},
	{name: "MAILB at a missing name is NXDOMAIN", qname: "nx.example.com.", qtype: dns.TypeMAILB},
	{name: "data at a cut is occluded: a referral", qname: "deleg.example.com.", qtype: dns.TypeTXT},
	{name: "a CNAME below a cut is occluded: a referral", qname: "x.deleg.example.com.", qtype: dns.TypeA},
	{name: "ANY picks the first A, AAAA, SOA, MX or PTR RRset, as NSD does", qname: "anyorder.example.com.", qtype: dns.TypeANY},
	{name: "ANY without those picks the last RRset", qname: "anynormal.example.com.", qtype: dns.TypeANY, notKnot: true},
	{name: "additional address through a wildcard", qname: "wmx.example.com.", qtype: dns.TypeMX},
	{name: "additional A RRsets before AAAA when truncating (Knot keeps each name's together)", qname: "manymx.example.com.", qtype: dns.TypeMX, edns: 700, notKnot: true},
	{name: "names in RDATA are lowercased as NSD stores them", qname: "upper.example.com.", qtype: dns.TypeMX},
	{name: "a DNAME into its own subtree stops where it repeats (Knot goes on five links)", qname: "x.dnloop.example.com.", qtype: dns.TypeA, notKnot: true},
	{name: "a DNAME answers a CNAME query with the synthesized CNAME", qname: "x.dn.example.com.", qtype: dns.TypeCNAME},
	{name: "a chain of 20 CNAMEs is followed to its end (Knot stops after five)", qname: "link1.example.com.", qtype: dns.TypeA, notKnot: true},
	{name: "CHAOS version.bind off", qname: "version.bind.", qtype: dns.TypeTXT, modify: func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }, notKnot: true},
}

// The golden files hold the peers' answers to every conformance case,
// recorded by the peers tests with -update: testdata/answers/nsd.golden
// (islet with its default configuration is compared with it) and
// knot.golden (islet with Minimal responses, as Knot answers). The fast
// suite holds islet to them without NSD or Knot installed; the peers
// suite fails when a golden file no longer says what the peer answers.
func goldenPath(peer string) string {
	return filepath.Join("testdata", "answers", peer+".golden")
}

// peerCases lists the cases a peer's golden file holds.
func peerCases(peer string) []conformanceCase {
	var list []conformanceCase
	for _, tc := range conformanceCases {
		if peer == "knot" && tc.notKnot || peer == "nsd" && tc.notNSD {
			continue
		}
		list = append(list, tc)
	}
	return list
}

// islets' configuration for comparison with a peer.
func peerConfig(peer string) zones.Config {
	return zones.Config{Minimal: peer == "knot"}
}

func (tc conformanceCase) query() *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(tc.qname, tc.qtype)
	m.RecursionDesired = false
	if tc.edns > 0 {
		m.SetEdns0(uint16(tc.edns), false)
	}
	if tc.modify != nil {
		tc.modify(m)
	}
	return m
}

func (tc conformanceCase) network() string {
	if tc.tcp {
		return "tcp"
	}
	return "udp"
}

// ask sends the case's query to addr and renders the response.
func (tc conformanceCase) ask(t testing.TB, addr string) string {
	return render(exchange(t, tc.network(), addr, tc.query()))
}

// readGolden reads a golden file: "### case name" lines, each followed
// by the rendered response.
func readGolden(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (the peers tests write it: go test -tags peers -run Conformance ./zones -update)", err)
	}
	defer f.Close()
	golden := map[string]string{}
	var name string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "### "); ok {
			name = n
			golden[name] = ""
			continue
		}
		if name == "" {
			t.Fatalf("%s: text before the first case", path)
		}
		golden[name] += line + "\n"
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return golden
}

func writeGolden(t testing.TB, path string, cases []conformanceCase, answers map[string]string) {
	t.Helper()
	var b strings.Builder
	for _, tc := range cases {
		fmt.Fprintf(&b, "### %s\n%s", tc.name, answers[tc.name])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConformanceGolden holds islet's answers to what NSD and Knot
// answered (the golden files), case and order of what is compared kept.
func TestConformanceGolden(t *testing.T) {
	if *update {
		t.Skip("-update: the peers tests record the golden files")
	}
	dir, _ := conformanceZones(t)
	set := loadDir(t, dir)
	for _, peer := range []string{"nsd", "knot"} {
		t.Run(peer, func(t *testing.T) {
			golden := readGolden(t, goldenPath(peer))
			addr, _ := startServer(t, set, peerConfig(peer))
			for _, tc := range peerCases(peer) {
				t.Run(tc.name, func(t *testing.T) {
					want, ok := golden[tc.name]
					if !ok {
						t.Fatalf("%s has no %q: record it with go test -tags peers -run Conformance ./zones -update", goldenPath(peer), tc.name)
					}
					if got := tc.ask(t, addr); got != want {
						t.Errorf("%s %s:\n--- %s (golden)\n%s--- islet\n%s", tc.qname, dns.TypeToString[tc.qtype], peer, want, got)
					}
				})
			}
		})
	}
}

func conformanceZones(t testing.TB) (string, []dnspeer.Zone) {
	dir, err := filepath.Abs("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	var list []dnspeer.Zone
	for _, origin := range []string{"example.com.", "child.example.com.", "example.net."} {
		list = append(list, dnspeer.Zone{Origin: origin, File: filepath.Join(dir, strings.TrimSuffix(origin, ".")+".zone")})
	}
	return dir, list
}
