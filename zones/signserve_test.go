package zones_test

import (
	"context"
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
// sections of r comes with an RRSIG that verifies with keys at time at.
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
	sz, _, err := s.Sign(z, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr, srv := startServer(t, zones.NewSet(sz), zones.Config{Signer: s})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.KeepSigned(ctx); close(done) }()
	defer func() { cancel(); <-done }()
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
