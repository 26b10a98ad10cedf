package zones

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestSipHashVector checks the reference vector of the SipHash paper
// (key 00..0f, message 00..0e).
func TestSipHashVector(t *testing.T) {
	var key, msg [16]byte
	for i := range key {
		key[i] = byte(i)
		msg[i] = byte(i)
	}
	k0 := uint64(0x0706050403020100)
	k1 := uint64(0x0f0e0d0c0b0a0908)
	if got := sipHash24(k0, k1, msg[:15]); got != 0xa129ca6149be45e5 {
		t.Fatalf("siphash = %#x", got)
	}
}

// TestCompiledMatchesBuilt answers every name of the conformance zones
// and of the signed fixtures, and names below them, for many types and
// in odd case, with DO=1 and without, twice: from the compiled blob and
// from a response packed record by record. Both must say the same.
func TestCompiledMatchesBuilt(t *testing.T) {
	for _, dir := range []string{"testdata/conformance", "testdata/dnssec/nsec", "testdata/dnssec/nsec3", "testdata/dnssec/bind-optout"} {
		t.Run(dir, func(t *testing.T) { compiledMatchesBuilt(t, dir) })
	}
}

func compiledMatchesBuilt(t *testing.T, dir string) {
	set, _, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, z := range set.Zones() {
		for _, n := range z.nodes {
			names = append(names, n.name, "x."+n.name, "a.b.c."+n.name, strings.ToUpper(n.name))
		}
		for _, n := range z.sec.hashed {
			names = append(names, n.name)
		}
	}
	names = append(names, "www.example.org.", "X.WILD.EXAMPLE.COM.", "MiXeD.wild.example.com.", "long-label-here.wild.example.com.",
		"X.WILD.SIGNED.EXAMPLE.", "long-label-here.wild.signed.example.")
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeTXT, dns.TypeCNAME,
		dns.TypeDS, dns.TypeANY, dns.TypeSRV, dns.TypeDNAME, dns.TypeCAA, 65280, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG}
	for _, o := range []answerOpts{{}, {minimal: true}, {do: true}, {minimal: true, do: true}} {
		srv, err := New(Config{Minimal: o.minimal}, set)
		if err != nil {
			t.Fatal(err)
		}
		sc := newScratch()
		client := netip.MustParseAddr("192.0.2.200")
		checked, proofs := 0, 0
		for _, name := range names {
			for _, qt := range types {
				m := new(dns.Msg).SetQuestion(name, qt)
				m.Id = 4242
				pkt, err := m.Pack()
				if err != nil {
					continue
				}
				if parseQuery(pkt, &sc.q, sc.lower[:]) != nil {
					t.Fatalf("%s: own query does not parse", name)
				}
				q := &sc.q
				l := set.find(string(q.lower), qt)
				var p proof
				if o.do && l.z != nil && l.z.Signed() {
					p = l.z.nameProof(l, string(q.lower), qt)
				}
				if p != (proof{}) {
					proofs++
				}
				b := set.blobFor(l, qt, o, p)
				if b == nil {
					continue
				}
				fast := srv.fromBlob(nil, q, b, nil)
				r := set.respond(l, questionName(q), qt, o, p)
				slow := srv.fromMsg(make([]byte, 0, 4096), q, r, 65535, sc, client)
				var fm, sm dns.Msg
				if err := fm.Unpack(fast); err != nil {
					t.Fatalf("%s %s: compiled response does not unpack: %v", name, dns.TypeToString[qt], err)
				}
				if err := sm.Unpack(slow); err != nil {
					t.Fatalf("%s %s: built response does not unpack: %v", name, dns.TypeToString[qt], err)
				}
				// Names may differ in case where the compiled side
				// compressed against the question, as NSD does.
				if !strings.EqualFold(fm.String(), sm.String()) {
					t.Errorf("%s %s %+v:\ncompiled:\n%s\nbuilt:\n%s", name, dns.TypeToString[qt], o, fm.String(), sm.String())
				}
				if l.kind == kindWildcard { // the synthesized owner is the name as asked
					for _, m := range []*dns.Msg{&fm, &sm} {
						if len(m.Answer) > 0 && m.Answer[0].Header().Name != name {
							t.Errorf("%s %s: wildcard answer owned by %s", name, dns.TypeToString[qt], m.Answer[0].Header().Name)
						}
					}
				}
				if fm.Question[0].Name != name {
					t.Errorf("question name %q, asked %q", fm.Question[0].Name, name)
				}
				checked++
			}
		}
		if checked < 1000 {
			t.Fatalf("only %d responses compared", checked)
		}
		if o.do && strings.Contains(dir, "dnssec") && proofs < 100 {
			t.Fatalf("only %d responses with proofs", proofs)
		}
	}
}

// sshfpQuery serves the conformance zones and makes a query for the
// SSHFP RRset at sshfp.example.com.
func sshfpQuery(t *testing.T) (*Set, *Server, []byte) {
	t.Helper()
	set, _, err := LoadDir("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{}, set)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := new(dns.Msg).SetQuestion("sshfp.example.com.", dns.TypeSSHFP).Pack()
	if err != nil {
		t.Fatal(err)
	}
	return set, srv, pkt
}

// TestConcurrentCompile compiles the same answers from many goroutines
// at once (run with -race): records are shared, compiling must not
// write to them.
func TestConcurrentCompile(t *testing.T) {
	_, srv, pkt := sshfpQuery(t)
	done := make(chan []byte, 8)
	for i := 0; i < 8; i++ {
		go func() {
			done <- srv.handle(pkt, nil, newScratch(), netip.MustParseAddr("192.0.2.1"), false)
		}()
	}
	var first []byte
	for i := 0; i < 8; i++ {
		r := <-done
		if first == nil {
			first = r
		} else if string(r) != string(first) {
			t.Fatal("concurrent compiles gave different answers")
		}
	}
}

// TestCompiledBound: compiled answers are kept up to maxCompiledBytes,
// and past it answers are still given, built for each query.
func TestCompiledBound(t *testing.T) {
	set, srv, pkt := sshfpQuery(t)
	set.compiled.Store(maxCompiledBytes - 10) // nearly full
	resp := srv.handle(pkt, nil, newScratch(), netip.MustParseAddr("192.0.2.1"), false)
	var r dns.Msg
	if err := r.Unpack(resp); err != nil || len(r.Answer) != 1 {
		t.Fatalf("answer past the bound: %v %v", err, r.Answer)
	}
	if got := set.compiled.Load(); got != maxCompiledBytes-10 {
		t.Fatalf("compiled octets %d after a query past the bound, want %d", got, maxCompiledBytes-10)
	}
	n := set.zones["\x07example\x03com\x00"].nodes["\x05sshfp\x07example\x03com\x00"]
	if l := n.blobs.Load(); l != nil && l.set == set && len(l.entries) > 0 {
		t.Fatal("an answer past the bound was kept")
	}
	set.compiled.Store(0)
	srv.handle(pkt, nil, newScratch(), netip.MustParseAddr("192.0.2.1"), false)
	if set.compiled.Load() == 0 {
		t.Fatal("an answer under the bound was not kept")
	}
}

// TestCompiledSize: what a kept answer holds is what the bound counts,
// not the buffer it was packed in.
func TestCompiledSize(t *testing.T) {
	set, srv, pkt := sshfpQuery(t)
	srv.handle(pkt, nil, newScratch(), netip.MustParseAddr("192.0.2.1"), false)
	n := set.zones["\x07example\x03com\x00"].nodes["\x05sshfp\x07example\x03com\x00"]
	l := n.blobs.Load()
	if l == nil || len(l.entries) != 1 {
		t.Fatal("the answer was not kept")
	}
	b := l.entries[0].b
	if held, counted := int64(cap(b.data)+2*cap(b.rel)), b.size(); held > counted {
		t.Errorf("a kept answer holds %d octets of data, the bound counts %d in all", held, counted)
	}
}
