package zones_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

// signFixture copies the source of the signed fixtures into a folder of
// its own and loads it, unsigned.
func signFixture(t testing.TB) (*zones.Zone, string) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "dnssec", "signed.example.zone"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "signed.example.zone"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return loadDir(t, dir).Zones()[0], dir
}

// clock is a settable time for a Signer.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSigner(t testing.TB, denial zones.Denial, alg uint8, c *clock) *zones.Signer {
	t.Helper()
	ks, err := zones.OpenKeyStore(filepath.Join(t.TempDir(), "keys"), alg)
	if err != nil {
		t.Fatal(err)
	}
	return zones.NewSigner(ks, zones.SignOptions{Denial: denial, Now: c.now})
}

// verifyZone checks every RRSIG of z with the zone's DNSKEYs at time at,
// and that every RRset that needs one has one; it returns the number of
// signatures checked.
func verifyZone(t testing.TB, z *zones.Zone, at time.Time) int {
	t.Helper()
	rrs := z.RRs()
	keys := map[uint16]*dns.DNSKEY{}
	type setKey struct {
		name string
		t    uint16
	}
	sets := map[setKey][]dns.RR{}
	var sigs []*dns.RRSIG
	for _, rr := range rrs {
		h := rr.Header()
		switch v := rr.(type) {
		case *dns.DNSKEY:
			keys[v.KeyTag()] = v
		case *dns.RRSIG:
			sigs = append(sigs, v)
			continue
		}
		k := setKey{strings.ToLower(h.Name), h.Rrtype}
		sets[k] = append(sets[k], rr)
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no DNSKEY", z.Origin)
	}
	signed := map[setKey]bool{}
	for _, sig := range sigs {
		k := setKey{strings.ToLower(sig.Hdr.Name), sig.TypeCovered}
		key := keys[sig.KeyTag]
		if key == nil {
			t.Errorf("%s: signed by key %d, not in the DNSKEY RRset", sig.Hdr.Name, sig.KeyTag)
			continue
		}
		if err := sig.Verify(key, sets[k]); err != nil {
			t.Errorf("%s %s: the RRSIG does not verify: %v", k.name, dns.TypeToString[k.t], err)
		}
		if !sig.ValidityPeriod(at) {
			t.Errorf("%s %s: the RRSIG is not valid at %v", k.name, dns.TypeToString[k.t], at)
		}
		signed[k] = true
	}
	for k := range sets {
		if !signed[k] && !unsignedAllowed(z, k.name, k.t) {
			t.Errorf("%s %s: no RRSIG", k.name, dns.TypeToString[k.t])
		}
	}
	return len(sigs)
}

// unsignedAllowed: glue and the NS RRset of a delegation are not signed
// (RFC 4035 §2.2); in the fixture they are below or at "secure",
// "insecure" and "deep.below.insecure2".
func unsignedAllowed(z *zones.Zone, name string, t uint16) bool {
	for _, cut := range []string{"secure.", "insecure.", "deep.below.insecure2."} {
		cut += z.Origin
		if name == cut && t == dns.TypeNS {
			return true
		}
		if strings.HasSuffix(name, "."+cut) {
			return true
		}
	}
	return false
}

func TestSignZone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		denial zones.Denial
		alg    uint8
		want   string
	}{
		{"nsec", zones.DenyNSEC, dns.ECDSAP256SHA256, "NSEC"},
		{"nsec3", zones.DenyNSEC3, dns.ECDSAP256SHA256, "NSEC3"},
		{"ed25519", zones.DenyNSEC, dns.ED25519, "NSEC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, _ := signFixture(t)
			c := &clock{time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}
			s := newSigner(t, tc.denial, tc.alg, c)
			sz, st, err := s.Sign(z, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Diags) > 0 {
				t.Errorf("the signed zone has diagnostics:\n%v", st.Diags)
			}
			if !sz.Signed() || sz.Denial() != tc.want {
				t.Fatalf("signed zone: Signed %v, Denial %q; want %s", sz.Signed(), sz.Denial(), tc.want)
			}
			if sz.Serial() != z.Serial() {
				t.Errorf("serial %d, want the file's %d", sz.Serial(), z.Serial())
			}
			n := verifyZone(t, sz, c.t)
			if n == 0 || st.Signed == 0 || st.Reused != 0 {
				t.Errorf("%d signatures, stats %+v", n, st)
			}

			// Signed again an hour later, unchanged: the same zone.
			c.t = c.t.Add(time.Hour)
			again, st, err := s.Sign(z, sz)
			if err != nil {
				t.Fatal(err)
			}
			if st.Signed != 0 || again.Serial() != sz.Serial() || st.Msg != "" {
				t.Errorf("unchanged zone signed again: serial %d (was %d), stats %+v", again.Serial(), sz.Serial(), st)
			}
			if got, want := zoneString(again), zoneString(sz); got != want {
				t.Errorf("unchanged zone signed again differs:\n%s", lineDiff(want, got))
			}

			// Ten days later, the signatures are made again, under a
			// new serial.
			c.t = c.t.Add(10 * 24 * time.Hour)
			later, st, err := s.Sign(z, again)
			if err != nil {
				t.Fatal(err)
			}
			if st.Reused != 0 || st.Signed == 0 || later.Serial() == again.Serial() || st.Msg != "" {
				t.Errorf("re-signed after 10 days: serial %d (was %d), stats %+v", later.Serial(), again.Serial(), st)
			}
			verifyZone(t, later, c.t)
		})
	}
}

func zoneString(z *zones.Zone) string {
	var b strings.Builder
	for _, rr := range z.RRs() {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}
