package zones_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// zoneQueries makes the queries a differential test asks of a zone file,
// from its own contents: every owner with every type it holds and the
// common ones it lacks, names just beside and below each owner (NXDOMAIN
// and wildcard expansions), odd case, and NSEC3 owner names, which must
// not be visible as names. Each goes with DO=1 and without.
func zoneQueries(t testing.TB, file, origin string) []conformanceCase {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rrs []dns.RR
	zp := dns.NewZoneParser(f, origin, file)
	zp.SetDefaultTTL(3600)
	zp.SetIncludeAllowed(true)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return queriesFor(rrs)
}

// queriesFor makes zoneQueries' queries from a zone's records.
func queriesFor(rrs []dns.RR) []conformanceCase {
	types := map[string]map[uint16]bool{}
	for _, rr := range rrs {
		name := strings.ToLower(rr.Header().Name)
		if types[name] == nil {
			types[name] = map[uint16]bool{}
		}
		types[name][rr.Header().Rrtype] = true
	}
	owners := make([]string, 0, len(types))
	for name := range types {
		owners = append(owners, name)
	}
	sort.Strings(owners)
	common := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeNS, dns.TypeSOA, dns.TypeDS,
		dns.TypeCNAME, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG, dns.TypeDNSKEY, dns.TypeANY}
	var cases []conformanceCase
	ask := func(name string, qtype uint16) {
		name = strings.Replace(name, "..", ".", 1) // below the root
		if _, ok := dns.IsDomainName(name); !ok || len(name) > 254 || qtype == dns.TypeNXT {
			return // NXT's bitmap is not one the client can read
		}
		for _, do := range []bool{true, false} {
			tc := conformanceCase{qname: name, qtype: qtype, edns: 1232}
			tc.name = name + " " + dns.TypeToString[qtype]
			if do {
				tc.name += " +dnssec"
				tc.modify = func(m *dns.Msg) { m.IsEdns0().SetDo() }
			}
			cases = append(cases, tc)
		}
	}
	for _, name := range owners {
		label, parent, _ := strings.Cut(name, ".")
		if types[name][dns.TypeNSEC3] {
			ask(name, dns.TypeNSEC3)
			ask(name, dns.TypeA)
			continue
		}
		seen := map[uint16]bool{}
		for _, list := range [][]uint16{sortedTypes(types[name]), common} {
			for _, qt := range list {
				if !seen[qt] {
					seen[qt] = true
					ask(name, qt)
				}
			}
		}
		ask("nx-q."+name, dns.TypeA)
		ask("a.b."+name, dns.TypeTXT)
		if label != "*" && parent != "" {
			ask(label+"0."+parent, dns.TypeA)
			ask("0"+label+"."+parent, dns.TypeMX)
		}
		ask(strings.ToUpper(name), dns.TypeA)
	}
	return cases
}

func sortedTypes(m map[uint16]bool) []uint16 {
	out := make([]uint16, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
