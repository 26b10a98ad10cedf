package zones

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"
)

// TestSignaturesExpiringSoon: a signature that expires within a week is
// a warning naming it; one that expires in a month is not.
func TestSignaturesExpiringSoon(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		warn bool
	}{{3 * 24 * time.Hour, true}, {30 * 24 * time.Hour, false}} {
		exp := time.Now().Add(tc.in).UTC().Format("20060102150405")
		zone := "$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n  NS ns1\n" +
			"  DNSKEY 257 3 13 c2lnbmF0dXJl\n" +
			"  RRSIG DNSKEY 13 2 300 20550101000000 20191201000000 1 soon.example. c2lnbmF0dXJl\n" +
			"  RRSIG SOA 13 2 300 " + exp + " 20191201000000 1 soon.example. c2lnbmF0dXJl\n" +
			"ns1 A 192.0.2.1\n"
		_, diags, err := LoadFS(fstest.MapFS{"soon.example": {Data: []byte(zone)}}, "zones")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range diags {
			if strings.Contains(d.Msg, "expires within a week") {
				found = true
				// The line is that of the name's first RRSIG.
				if !strings.Contains(d.Msg, "soon.example. SOA") || d.Line != 5 {
					t.Errorf("warning does not name the signature: %s", d)
				}
			}
		}
		if found != tc.warn {
			t.Errorf("expiry in %v: warned %v, want %v (%v)", tc.in, found, tc.warn, diags)
		}
	}
}

// TestSerialTime reads RRSIG times across the 32-bit wrap as the moment
// nearest now (RFC 4034 §3.1.5).
func TestSerialTime(t *testing.T) {
	now := time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC) // past 2^32 seconds
	at := time.Date(2106, 3, 1, 0, 0, 0, 0, time.UTC)
	if got := serialTime(uint32(at.Unix()), now); !got.Equal(at) {
		t.Errorf("serialTime = %v, want %v", got, at)
	}
	before := time.Date(2105, 12, 1, 0, 0, 0, 0, time.UTC)
	if got := serialTime(uint32(before.Unix()), now); !got.Equal(before) {
		t.Errorf("serialTime = %v, want %v", got, before)
	}
}

// TestOptOutProvableEncloser: below a name that only an insecure
// delegation makes, which opt-out leaves out of the NSEC3 chain, the
// proof starts from the closest provable encloser (RFC 5155 §7.2.1):
// here the apex, with the opt-out NSEC3 covering the next closer name.
// NSD starts from the unprovable name, and delv rejects its answer.
func TestOptOutProvableEncloser(t *testing.T) {
	set, _, err := LoadDir("testdata/dnssec/bind-optout")
	if err != nil {
		t.Fatal(err)
	}
	z := set.Zones()[0]
	for _, q := range []string{"x.insecure2.signed.example.", "deep0.below.insecure2.signed.example."} {
		qw, _ := wireName(q)
		l := set.find(qw, 1)
		if l.kind != kindNXDomain {
			t.Fatalf("%s: kind %v, want NXDOMAIN", q, l.kind)
		}
		p := z.nameProof(l, qw, 1)
		nc, _ := wireName("insecure2.signed.example.")
		want := []*node{z.nsec3Match(z.wire), z.nsec3Cover(nc), z.nsec3Cover("\x01*" + z.wire)}
		got := p.nodes()
		if want[0] == nil || len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("%s: proof %v, want the apex's NSEC3 and the one covering insecure2", q, names(got))
		}
		if want[1].rrset(dns.TypeNSEC3)[0].(*dns.NSEC3).Flags&1 == 0 {
			t.Fatalf("%s: the NSEC3 covering insecure2 has no opt-out flag", q)
		}
	}
}

func names(ns []*node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.name)
	}
	return out
}

// TestNSEC3ChainChoice: a zone being re-salted holds two chains and
// several NSEC3PARAMs; the chain served is that of the first NSEC3PARAM
// without flags whose chain holds the apex, as NSD picks it.
func TestNSEC3ChainChoice(t *testing.T) {
	apex, _ := wireName("p.example.")
	want := nsec3Params{alg: 1, iterations: 2, salt: []byte{0xab}}
	other := nsec3Params{alg: 1, iterations: 0, salt: nil}
	zone := "$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 604800 60\n  NS ns1\n" +
		"  DNSKEY 257 3 13 c2lnbmF0dXJl\n" +
		"  RRSIG DNSKEY 13 2 300 20550101000000 20191201000000 1 p.example. c2lnbmF0dXJl\n" +
		"  NSEC3PARAM 1 1 0 -\n" + // flags set: ignored
		"  NSEC3PARAM 1 0 7 cafe\n" + // no chain holds the apex
		"  NSEC3PARAM 1 0 2 ab\n" +
		"  NSEC3PARAM 1 0 0 -\n" +
		"ns1 A 192.0.2.1\n" +
		want.hash(apex) + " NSEC3 1 0 2 ab " + strings.ToUpper(want.hash(apex)) + " NS SOA\n" +
		other.hash(apex) + " NSEC3 1 0 0 - " + strings.ToUpper(other.hash(apex)) + " NS SOA\n"
	set, diags, err := LoadFS(fstest.MapFS{"p.example": {Data: []byte(zone)}}, "zones")
	if err != nil {
		t.Fatalf("%v\n%v", err, diags)
	}
	z := set.Zones()[0]
	if z.sec.deny != denyNSEC3 || z.sec.params.iterations != 2 || string(z.sec.params.salt) != "\xab" {
		t.Fatalf("chain %+v, want iterations 2 salt ab", z.sec.params)
	}
	if len(z.sec.chain) != 1 {
		t.Fatalf("chain has %d links, want the one of its parameters", len(z.sec.chain))
	}
}
