package zones_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

// askDO sends a query with the DO bit over TCP.
func askDO(t testing.TB, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(4096, true)
	return exchange(t, "tcp", addr, m)
}

// verifyAnswer checks that every RRset of the answer and authority
// sections of r comes with an RRSIG that verifies with keys at time at,
// but a referral's NS RRset, which the parent does not sign.
func verifyAnswer(t testing.TB, r *dns.Msg, keys []dns.RR, at time.Time) {
	t.Helper()
	byTag := map[uint16]*dns.DNSKEY{}
	for _, k := range keys {
		if key, ok := k.(*dns.DNSKEY); ok {
			byTag[key.KeyTag()] = key
		}
	}
	for _, sec := range [][]dns.RR{r.Answer, r.Ns} {
		type setKey struct {
			name string
			t    uint16
		}
		sets := map[setKey][]dns.RR{}
		var sigs []*dns.RRSIG
		for _, rr := range sec {
			if s, ok := rr.(*dns.RRSIG); ok {
				sigs = append(sigs, s)
				continue
			}
			k := setKey{strings.ToLower(rr.Header().Name), rr.Header().Rrtype}
			sets[k] = append(sets[k], rr)
		}
		for k, set := range sets {
			if k.t == dns.TypeNS && !r.Authoritative {
				continue
			}
			ok := false
			for _, s := range sigs {
				if strings.ToLower(s.Hdr.Name) != k.name || s.TypeCovered != k.t {
					continue
				}
				key := byTag[s.KeyTag]
				if key == nil {
					t.Errorf("%s %s: signed by key %d, not served", k.name, dns.TypeToString[k.t], s.KeyTag)
					continue
				}
				if err := s.Verify(key, set); err != nil || !s.ValidityPeriod(at) {
					t.Errorf("%s %s: RRSIG does not verify at %v: %v", k.name, dns.TypeToString[k.t], at, err)
					continue
				}
				ok = true
			}
			if !ok {
				t.Errorf("%s %s: no RRSIG in\n%v", k.name, dns.TypeToString[k.t], r)
			}
		}
	}
}

func replySerial(t testing.TB, r *dns.Msg) uint32 {
	t.Helper()
	for _, rr := range append(r.Answer, r.Ns...) {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial
		}
	}
	t.Fatalf("no SOA in\n%v", r)
	return 0
}

// TestKeepSigned serves a zone whose signatures are valid for 9 seconds
// and asks for it without a pause: the signatures are made again
// before they run out, under a new serial, and no answer in between
// comes with a signature that does not verify.
func TestKeepSigned(t *testing.T) {
	z, _ := signFixture(t)
	s := newSignerOpts(t, zones.SignOptions{Denial: zones.DenyNSEC3, Validity: 9 * time.Second})
	addr := serveSigned(t, z, s)
	keys := askDO(t, addr, "signed.example.", dns.TypeDNSKEY).Answer
	first := replySerial(t, askDO(t, addr, "signed.example.", dns.TypeSOA))
	deadline := time.Now().Add(15 * time.Second)
	for {
		now := time.Now()
		r := askDO(t, addr, "www.signed.example.", dns.TypeA)
		verifyAnswer(t, r, keys, now)
		nx := askDO(t, addr, "nothere.signed.example.", dns.TypeA)
		verifyAnswer(t, nx, keys, now)
		if serial := replySerial(t, askDO(t, addr, "signed.example.", dns.TypeSOA)); serial != first {
			if serial-first >= 1<<31 {
				t.Errorf("serial went from %d back to %d", first, serial)
			}
			break
		}
		if now.After(deadline) || t.Failed() {
			t.Fatalf("not signed again after 15 s: serial still %d", first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The new version's answers verify after the old signatures ran out.
	time.Sleep(4 * time.Second)
	verifyAnswer(t, askDO(t, addr, "www.signed.example.", dns.TypeA), keys, time.Now())
	verifyAnswer(t, askDO(t, addr, "x.wild.signed.example.", dns.TypeMX), keys, time.Now())
}

// serveSigned signs z with s and serves it, signed again as KeepSigned
// does, for the length of the test.
func serveSigned(t *testing.T, z *zones.Zone, s *zones.Signer) string {
	t.Helper()
	sz, _, err := s.Sign(z, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr, srv := startServer(t, zones.NewSet(sz), zones.Config{Signer: s})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.KeepSigned(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return addr
}

func newSignerOpts(t testing.TB, opt zones.SignOptions) *zones.Signer {
	t.Helper()
	ks, err := zones.OpenKeyStore(t.TempDir(), dns.ECDSAP256SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return zones.NewSigner(ks, opt)
}

// TestChallengeSigned publishes an ACME challenge record in a zone
// islet signs: it is served signed, with the zone's proofs adjusted
// around it, under a new serial; withdrawn, the name is gone again
// with a signed proof.
func TestChallengeSigned(t *testing.T) {
	for _, denial := range []zones.Denial{zones.DenyNSEC, zones.DenyNSEC3} {
		z, _ := signFixture(t)
		s := newSignerOpts(t, zones.SignOptions{Denial: denial})
		sz, _, err := s.Sign(z, nil)
		if err != nil {
			t.Fatal(err)
		}
		addr, srv := startServer(t, zones.NewSet(sz), zones.Config{Signer: s})
		keys := askDO(t, addr, "signed.example.", dns.TypeDNSKEY).Answer
		name := "_acme-challenge.www.signed.example."
		before := replySerial(t, askDO(t, addr, "signed.example.", dns.TypeSOA))
		if err := srv.PublishTXT(name, "token-1"); err != nil {
			t.Fatal(err)
		}
		r := askDO(t, addr, name, dns.TypeTXT)
		if len(r.Answer) != 2 || r.Answer[0].(*dns.TXT).Txt[0] != "token-1" {
			t.Fatalf("published challenge:\n%v", r)
		}
		verifyAnswer(t, r, keys, time.Now())
		verifyZone(t, srv.Zones().Zones()[0], time.Now())
		after := replySerial(t, askDO(t, addr, "signed.example.", dns.TypeSOA))
		if after == before {
			t.Errorf("serial %d unchanged by the challenge record", after)
		}
		verifyAnswer(t, askDO(t, addr, "www.signed.example.", dns.TypeAAAA), keys, time.Now())
		srv.UnpublishTXT(name, "token-1")
		r = askDO(t, addr, name, dns.TypeTXT)
		if r.Rcode != dns.RcodeNameError {
			t.Errorf("withdrawn challenge: %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
		}
		verifyAnswer(t, r, keys, time.Now())
		verifyZone(t, srv.Zones().Zones()[0], time.Now())
	}
}

// TestCompactDenial serves a zone signed with compact denial: a name
// that does not exist gets NOERROR with an NSEC at the name listing
// NXNAME, signed; an existing name NODATA with its own NSEC; a wildcard
// answer is signed as the name asked; the unsigned delegation's NSEC
// names a successor outside it; NXNAME asked for is FORMERR; every
// signature verifies, and past the signing budget a query over UDP is
// told to come over TCP.
func TestCompactDenial(t *testing.T) {
	z, _ := signFixture(t)
	s := newSignerOpts(t, zones.SignOptions{Denial: zones.DenyCompact, CompactRate: 40})
	sz, st, err := s.Sign(z, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Diags) > 0 || sz.Denial() != "compact" {
		t.Fatalf("denial %q, diagnostics %v", sz.Denial(), st.Diags)
	}
	addr, _ := startServer(t, zones.NewSet(sz), zones.Config{})
	keys := askDO(t, addr, "signed.example.", dns.TypeDNSKEY).Answer
	nsecOf := func(r *dns.Msg) *dns.NSEC {
		for _, rr := range r.Ns {
			if n, ok := rr.(*dns.NSEC); ok {
				return n
			}
		}
		t.Fatalf("no NSEC in\n%v", r)
		return nil
	}
	for _, tc := range []struct {
		name     string
		qtype    uint16
		rcode    int
		answers  int
		nsecNext string
		bitmap   []uint16
	}{
		{"nx.signed.example.", dns.TypeA, dns.RcodeSuccess, 0, `\000.nx.signed.example.`, []uint16{dns.TypeNSEC, dns.TypeRRSIG, dns.TypeNXNAME}},
		{"a.b.nx.signed.example.", dns.TypeTXT, dns.RcodeSuccess, 0, `\000.a.b.nx.signed.example.`, []uint16{dns.TypeNSEC, dns.TypeRRSIG, dns.TypeNXNAME}},
		{"mail.signed.example.", dns.TypeMX, dns.RcodeSuccess, 0, `\000.mail.signed.example.`, []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
		{"b.c.signed.example.", dns.TypeA, dns.RcodeSuccess, 0, `\000.b.c.signed.example.`, []uint16{dns.TypeRRSIG, dns.TypeNSEC}},
		{"x.wild.signed.example.", dns.TypeAAAA, dns.RcodeSuccess, 0, `\000.x.wild.signed.example.`, []uint16{dns.TypeA, dns.TypeMX, dns.TypeTXT, dns.TypeRRSIG, dns.TypeNSEC}},
		{"x.wild.signed.example.", dns.TypeA, dns.RcodeSuccess, 1, "", nil},
		{"insecure.signed.example.", dns.TypeA, dns.RcodeSuccess, 0, `insecure\000.signed.example.`, []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}},
	} {
		r := askDO(t, addr, tc.name, tc.qtype)
		if r.Rcode != tc.rcode || len(r.Answer) != 2*tc.answers {
			t.Errorf("%s %s: %s, %d answers:\n%v", tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[r.Rcode], len(r.Answer), r)
			continue
		}
		verifyAnswer(t, r, keys, time.Now())
		if tc.answers > 0 {
			sig := r.Answer[1].(*dns.RRSIG)
			if int(sig.Labels) != dns.CountLabel(tc.name) {
				t.Errorf("%s: the wildcard answer is signed with %d labels, want the name's %d", tc.name, sig.Labels, dns.CountLabel(tc.name))
			}
			continue
		}
		nsec := nsecOf(r)
		if !strings.EqualFold(nsec.Hdr.Name, tc.name) || nsec.NextDomain != tc.nsecNext || !slices.Equal(nsec.TypeBitMap, slices.Sorted(slices.Values(tc.bitmap))) {
			t.Errorf("%s %s: NSEC %v, want next %s, types %v", tc.name, dns.TypeToString[tc.qtype], nsec, tc.nsecNext, tc.bitmap)
		}
	}
	if r := askDO(t, addr, "signed.example.", dns.TypeNXNAME); r.Rcode != dns.RcodeFormatError {
		t.Errorf("NXNAME query: %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
	// Without DO a name that does not exist is NXDOMAIN, as before.
	if r := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("nx.signed.example.", dns.TypeA)); r.Rcode != dns.RcodeNameError {
		t.Errorf("nx without DO: %s", dns.RcodeToString[r.Rcode])
	}
	// A flood of new names: the budget (40 signatures a second) runs
	// out; UDP queries are told to use TCP.
	tc := 0
	for i := range 200 {
		m := new(dns.Msg).SetQuestion(fmt.Sprintf("flood%d.signed.example.", i), dns.TypeA)
		m.SetEdns0(1232, true)
		if r := exchange(t, "udp", addr, m); r.Truncated {
			tc++
		}
	}
	if tc < 100 {
		t.Errorf("%d of 200 new names were told to come over TCP; want most past a budget of 40 a second", tc)
	}
	// A name asked again is answered from what was signed, budget or not.
	if r := askDO(t, addr, "nx.signed.example.", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Ns) == 0 {
		t.Errorf("a name signed before, past the budget:\n%v", r)
	}
}
