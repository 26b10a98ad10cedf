package zones_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
		if z.Origin != "." {
			cut += z.Origin
		}
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

// apexSet returns the records of type t at the zone's apex, and the key
// tags of the RRSIGs over name's RRset of type t.
func apexSet(z *zones.Zone, name string, t uint16) (rrs []dns.RR, tags []uint16) {
	for _, rr := range z.RRs() {
		if !strings.EqualFold(rr.Header().Name, name) {
			continue
		}
		if rr.Header().Rrtype == t {
			rrs = append(rrs, rr)
		}
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == t {
			tags = append(tags, sig.KeyTag)
		}
	}
	slices.Sort(tags)
	return rrs, tags
}

// TestRollover rolls the zone's key by double signature: the new key
// signs beside the old at once, CDS names the new key once caches
// cannot hold answers without it, and the old key and its signatures go
// once the parent's DS naming it has expired; each step comes when the
// signer signs after its time (the re-signing loop wakes for it), under
// a new serial, and the zone verifies throughout.
func TestRollover(t *testing.T) {
	z, c, dir, ks := rolloverFixture(t)
	s := zones.NewSigner(ks, zones.SignOptions{Now: c.now})
	v1, _, err := s.Sign(z, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := ks.Keys("signed.example.", c.t)
	oldTag := old[0].Tag()

	c.t = c.t.Add(time.Hour)
	r, err := zones.StartRollover(dir, "signed.example", c.t, zones.RolloverTiming{ZoneTTL: 2 * time.Hour, ParentTTL: 24 * time.Hour, Propagation: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	newTag := r.New[0].Tag()
	if !r.SyncAt.Equal(c.t.Add(3*time.Hour)) || !r.RetireAt.Equal(c.t.Add(28*time.Hour)) {
		t.Errorf("schedule: CDS at %v, old key out at %v", r.SyncAt, r.RetireAt)
	}
	if _, err := zones.StartRollover(dir, "signed.example", c.t, zones.RolloverTiming{}); err == nil {
		t.Error("a second rollover started while one is under way")
	}
	steps := []struct {
		at               time.Time
		dnskeys, signers []uint16
		cds              uint16
	}{
		{c.t, []uint16{oldTag, newTag}, []uint16{oldTag, newTag}, oldTag},
		{r.SyncAt, []uint16{oldTag, newTag}, []uint16{oldTag, newTag}, newTag},
		{r.RetireAt, []uint16{newTag}, []uint16{newTag}, newTag},
	}
	prev := v1
	for i, step := range steps {
		c.t = step.at
		if i > 0 && prev.ResignAt().After(step.at) {
			t.Errorf("step %d at %v: the zone signed before is not due until %v", i, step.at, prev.ResignAt())
		}
		next, _, err := s.Sign(prev, prev)
		if err != nil {
			t.Fatal(err)
		}
		if next.Serial() == prev.Serial() {
			t.Errorf("step %d: serial unchanged", i)
		}
		var tags []uint16
		keys, _ := apexSet(next, "signed.example.", dns.TypeDNSKEY)
		for _, k := range keys {
			tags = append(tags, k.(*dns.DNSKEY).KeyTag())
		}
		slices.Sort(tags)
		want := slices.Sorted(slices.Values(step.dnskeys))
		if !slices.Equal(tags, want) {
			t.Errorf("step %d: DNSKEYs %v, want %v", i, tags, want)
		}
		for _, typ := range []uint16{dns.TypeSOA, dns.TypeA, dns.TypeNSEC} {
			if _, signers := apexSet(next, "signed.example.", typ); !slices.Equal(signers, slices.Sorted(slices.Values(step.signers))) {
				t.Errorf("step %d: %s signed by %v, want %v", i, dns.TypeToString[typ], signers, step.signers)
			}
		}
		cds, _ := apexSet(next, "signed.example.", dns.TypeCDS)
		if len(cds) != 1 || cds[0].(*dns.CDS).KeyTag != step.cds {
			t.Errorf("step %d: CDS %v, want key %d", i, cds, step.cds)
		}
		verifyZone(t, next, c.t)
		prev = next
	}
	// The schedule survives a restart: a new store reads it back.
	again, err := zones.ReadZoneKeys(dir, "signed.example.")
	if err != nil || len(again) != 2 {
		t.Fatalf("keys: %v %v", again, err)
	}
	for _, k := range again {
		if k.Tag() == oldTag && !k.Delete.Equal(r.RetireAt) || k.Tag() == newTag && !k.SyncPublish.Equal(r.SyncAt) {
			t.Errorf("key %d read back with Delete %v, SyncPublish %v", k.Tag(), k.Delete, k.SyncPublish)
		}
	}
}

// TestInactiveKey: a key that stops signing but stays published (BIND's
// Inactive before Delete) takes its signatures with it, and that is a
// change of the zone: a new serial.
func TestInactiveKey(t *testing.T) {
	z, c, dir, ks := rolloverFixture(t)
	old, _ := ks.Keys("signed.example.", c.t)
	r, err := zones.StartRollover(dir, "signed.example", c.t, zones.RolloverTiming{ZoneTTL: time.Hour, ParentTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The old key stays published long after it stops signing.
	priv := strings.TrimSuffix(old[0].File, ".key") + ".private"
	data, _ := os.ReadFile(priv)
	text := regexp.MustCompile(`(?m)^Delete: \d+$`).ReplaceAllString(string(data), "Delete: 20990101000000")
	if err := os.WriteFile(priv, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s := zones.NewSigner(ks, zones.SignOptions{Now: c.now})
	c.t = r.SyncAt.Add(time.Minute) // CDS names the new key from here on
	v1, _, err := s.Sign(z, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.t = r.RetireAt.Add(time.Minute)
	v2, _, err := s.Sign(v1, v1)
	if err != nil {
		t.Fatal(err)
	}
	if keys, signers := apexSet(v2, "signed.example.", dns.TypeSOA); len(keys) != 1 || !slices.Equal(signers, []uint16{r.New[0].Tag()}) {
		t.Errorf("SOA signed by %v, want only the new key %d", signers, r.New[0].Tag())
	}
	if dnskeys, _ := apexSet(v2, "signed.example.", dns.TypeDNSKEY); len(dnskeys) != 2 {
		t.Errorf("%d DNSKEYs, want the inactive key still published", len(dnskeys))
	}
	if _, signers := apexSet(v2, "signed.example.", dns.TypeA); !slices.Equal(signers, []uint16{r.New[0].Tag()}) {
		t.Errorf("A signed by %v", signers)
	}
	if v2.Serial() == v1.Serial() {
		t.Errorf("serial %d unchanged though the old key's signatures went", v2.Serial())
	}
}

// rolloverFixture is the fixture's zone, a clock and an empty key folder.
func rolloverFixture(t *testing.T) (*zones.Zone, *clock, string, *zones.KeyStore) {
	t.Helper()
	z, _ := signFixture(t)
	dir := filepath.Join(t.TempDir(), "keys")
	ks, err := zones.OpenKeyStore(dir, dns.ECDSAP256SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return z, &clock{time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}, dir, ks
}

// TestRolloverTooShort warns when a rollover's schedule would have CDS
// name the new key before caches can have dropped what they hold
// without it.
func TestRolloverTooShort(t *testing.T) {
	for _, tc := range []struct {
		zoneTTL time.Duration
		warn    bool
	}{{time.Minute, true}, {2 * time.Hour, false}} { // the fixture's largest TTL is 7200
		z, c, dir, ks := rolloverFixture(t)
		s := zones.NewSigner(ks, zones.SignOptions{Now: c.now})
		if _, err := ks.Keys(z.Origin, c.t); err != nil {
			t.Fatal(err)
		}
		if _, err := zones.StartRollover(dir, z.Origin, c.t, zones.RolloverTiming{ZoneTTL: tc.zoneTTL}); err != nil {
			t.Fatal(err)
		}
		_, st, err := s.Sign(z, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (st.Rollover != "") != tc.warn || tc.warn && !strings.Contains(st.Rollover, "--zone-ttl 2h0m0s") {
			t.Errorf("--zone-ttl %v: warning %q", tc.zoneTTL, st.Rollover)
		}
	}
}

// TestSignRoot signs a zone at the root, whose names below it are
// "label." (a first version wrote NSEC3 owners and compact denial's
// successors with two dots and refused to sign).
func TestSignRoot(t *testing.T) {
	z := mustZone(t, ".", ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n. NS a.root-servers.net.\na.root-servers.net. A 198.41.0.4\ninsecure. NS ns.insecure.\nns.insecure. A 192.0.2.1\n")
	for _, denial := range []zones.Denial{zones.DenyNSEC, zones.DenyNSEC3, zones.DenyCompact} {
		c := &clock{time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)}
		sz, st, err := newSigner(t, denial, dns.ECDSAP256SHA256, c).Sign(z, nil)
		if err != nil || len(st.Diags) > 0 {
			t.Fatalf("denial %d: %v %v", denial, err, st.Diags)
		}
		verifyZone(t, sz, c.t)
	}
}
