//go:build peers

package zones_test

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/internal/dnspeer"
	"islet.dev/islet/internal/testpeer"
	"islet.dev/islet/zones"
)

// TestIsletSignedValidates signs the fixture's source with islet, NSEC,
// NSEC3 and compact denial, and checks the result against the peers
// (compact denial, signed per query, only against the validators): the zone as islet
// serves it, transferred by AXFR, passes ldns-verify-zone and
// dnssec-verify; delv,
// with the key's DS as trust anchor, validates every signed case islet
// answers, positive, wildcard, NODATA and NXDOMAIN, the secure and the
// insecure delegation's DS; Unbound, trusting the DNSKEY of the .key
// file, resolves through islet with AD set; and NSD serving the dump answers every
// query as islet does.
func TestIsletSignedValidates(t *testing.T) {
	delv := testpeer.Require(t, "delv")
	ldnsVerify := testpeer.Require(t, "ldns-verify-zone")
	bindVerify := testpeer.Require(t, "dnssec-verify")
	for _, tc := range []struct {
		name   string
		denial zones.Denial
		alg    uint8
	}{
		{"nsec", zones.DenyNSEC, dns.ECDSAP256SHA256},
		{"nsec3", zones.DenyNSEC3, dns.ECDSAP256SHA256},
		{"ed25519-nsec3", zones.DenyNSEC3, dns.ED25519},
		{"compact", zones.DenyCompact, dns.ECDSAP256SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, _ := signFixture(t)
			keys := filepath.Join(t.TempDir(), "keys")
			ks, err := zones.OpenKeyStore(keys, tc.alg)
			if err != nil {
				t.Fatal(err)
			}
			sz, _, err := zones.NewSigner(ks, zones.SignOptions{Denial: tc.denial}).Sign(z, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The zone as a secondary gets it: an AXFR from islet.
			cfg := peerConfig("nsd")
			cfg.AllowTransfer = []zones.TransferACL{{Prefix: netip.MustParsePrefix("127.0.0.1/32")}}
			addr, _ := startServer(t, zones.NewSet(sz), cfg)
			env, err := new(dns.Transfer).In(new(dns.Msg).SetAxfr("signed.example."), addr)
			if err != nil {
				t.Fatal(err)
			}
			var rrs []dns.RR
			for e := range env {
				if e.Error != nil {
					t.Fatal(e.Error)
				}
				rrs = append(rrs, e.RR...)
			}
			var dump strings.Builder
			for _, rr := range rrs[:len(rrs)-1] { // the closing SOA left out
				dump.WriteString(rr.String() + "\n")
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "signed.example.zone")
			if err := os.WriteFile(file, []byte(dump.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			compact := tc.denial == zones.DenyCompact // no chain to verify offline
			if out, err := exec.Command(ldnsVerify, file).CombinedOutput(); err != nil && !compact {
				t.Errorf("ldns-verify-zone: %v\n%s", err, out)
			}
			// -z: the key is a combined one (flags 257), signing all.
			if out, err := exec.Command(bindVerify, "-z", "-o", "signed.example", file).CombinedOutput(); err != nil && !compact {
				t.Errorf("dnssec-verify: %v\n%s", err, out)
			}

			kk, err := zones.ReadZoneKeys(keys, "signed.example.")
			if err != nil || len(kk) != 1 {
				t.Fatalf("keys: %v %v", kk, err)
			}
			dsFile := filepath.Join(dir, "anchor.ds")
			if err := os.WriteFile(dsFile, []byte(kk[0].DS().String()+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			anchor := writeAnchor(t, dsFile)
			host, port, _ := strings.Cut(addr, ":")
			for _, c := range signedCases {
				if c.referral || c.plain || c.qtype == dns.TypeRRSIG || c.qtype == dns.TypeNSEC3 {
					continue // meta queries are not validated
				}
				name := c.name(file)
				out, _ := exec.Command(delv, "@"+host, "-p", port, "-a", anchor, "+root=signed.example", name, typeName(c.qtype)).CombinedOutput()
				if text := string(out); !strings.Contains(text, "fully validated") {
					t.Errorf("%s %s does not validate:\n%s", name, typeName(c.qtype), text)
				}
			}

			// Unbound, trusting the DNSKEY in the .key file as it is.
			var anchorLines []string
			for _, l := range strings.Split(readFile(t, kk[0].File), "\n") {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, ";") {
					anchorLines = append(anchorLines, l)
				}
			}
			keyAnchor := filepath.Join(dir, "anchor.key")
			if err := os.WriteFile(keyAnchor, []byte(strings.Join(anchorLines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			resolver := startUnbound(t, testpeer.Require(t, "unbound"), addr, keyAnchor)
			for _, c := range []struct {
				name  string
				qtype uint16
				rcode int
				data  bool
			}{
				{"www.signed.example.", dns.TypeA, dns.RcodeSuccess, true},
				{"signed.example.", dns.TypeMX, dns.RcodeSuccess, true},
				{"mail.signed.example.", dns.TypeMX, dns.RcodeSuccess, false},
				{"nx.signed.example.", dns.TypeA, dns.RcodeNameError, false},
				{"b.c.signed.example.", dns.TypeA, dns.RcodeSuccess, false},
				{"x.wild.signed.example.", dns.TypeTXT, dns.RcodeSuccess, true},
				{"x.wild.signed.example.", dns.TypeAAAA, dns.RcodeSuccess, false},
				{"secure.signed.example.", dns.TypeDS, dns.RcodeSuccess, true},
				{"insecure.signed.example.", dns.TypeDS, dns.RcodeSuccess, false},
				{"x.insecure2.signed.example.", dns.TypeA, dns.RcodeNameError, false},
				{"signed.example.", dns.TypeCDS, dns.RcodeSuccess, true},
				{"signed.example.", dns.TypeCDNSKEY, dns.RcodeSuccess, true},
			} {
				m := new(dns.Msg).SetQuestion(c.name, c.qtype)
				m.SetEdns0(1232, true)
				r := exchange(t, "udp", resolver, m)
				if compact && c.rcode == dns.RcodeNameError && r.Rcode == dns.RcodeSuccess {
					r.Rcode = c.rcode // RFC 9824: NODATA with NXNAME stands for NXDOMAIN
				}
				if r.Rcode != c.rcode || !r.AuthenticatedData || (len(r.Answer) > 0) != c.data {
					t.Errorf("unbound: %s %s: rcode %s AD %v, %d answers; want %s, AD, answers %v:\n%s", c.name, typeName(c.qtype),
						dns.RcodeToString[r.Rcode], r.AuthenticatedData, len(r.Answer), dns.RcodeToString[c.rcode], c.data, r)
				}
			}

			if compact {
				return // answered per query: NSD cannot serve it
			}
			nsd := dnspeer.StartNSD(t, []dnspeer.Zone{{Origin: "signed.example.", File: file}})
			var cases []conformanceCase
			for _, c := range signedCases {
				cases = append(cases, c.conformance(file))
			}
			cases = append(cases, zoneQueries(t, file, "signed.example.")...)
			differ := 0
			for _, q := range cases {
				if want, got := q.ask(t, nsd), q.ask(t, addr); got != want {
					if differ++; differ <= 12 {
						t.Errorf("%s:\n%s", q.name, lineDiffText(want, got))
					}
				}
			}
			if differ > 0 {
				t.Errorf("%d of %d answers differ from NSD's serving the same signed zone", differ, len(cases))
			}
		})
	}
}

func readFile(t testing.TB, f string) string {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRolloverValidates serves a zone in the middle of a key rollover,
// as KeepSigned takes its steps: delv validates with the old key's DS
// and with the new one's while both sign; once the old key is gone only
// the new DS validates.
func TestRolloverValidates(t *testing.T) {
	delv := testpeer.Require(t, "delv")
	z, _ := signFixture(t)
	keys := filepath.Join(t.TempDir(), "keys")
	ks, err := zones.OpenKeyStore(keys, dns.ECDSAP256SHA256)
	if err != nil {
		t.Fatal(err)
	}
	old, err := ks.Keys(z.Origin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, err := zones.StartRollover(keys, z.Origin, time.Now(), zones.RolloverTiming{ZoneTTL: 3 * time.Second, ParentTTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveSigned(t, z, zones.NewSigner(ks, zones.SignOptions{Denial: zones.DenyNSEC3}))
	anchor := func(k *zones.SigningKey) string {
		f := filepath.Join(t.TempDir(), "ds")
		os.WriteFile(f, []byte(k.DS().String()+"\n"), 0o644)
		return writeAnchor(t, f)
	}
	oldAnchor, newAnchor := anchor(old[0]), anchor(r.New[0])
	host, port, _ := strings.Cut(addr, ":")
	validates := func(anchor, name string, qtype uint16) bool {
		out, _ := exec.Command(delv, "@"+host, "-p", port, "-a", anchor, "+root=signed.example", name, typeName(qtype)).CombinedOutput()
		return strings.Contains(string(out), "fully validated")
	}
	cdsTag := func() uint16 {
		r := askDO(t, addr, "signed.example.", dns.TypeCDS)
		for _, rr := range r.Answer {
			if c, ok := rr.(*dns.CDS); ok {
				return c.KeyTag
			}
		}
		return 0
	}
	check := func(stage string, oldOK bool) {
		t.Helper()
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{"www.signed.example.", dns.TypeA}, {"nx.signed.example.", dns.TypeA}, {"x.wild.signed.example.", dns.TypeTXT}} {
			if !validates(newAnchor, q.name, q.qtype) {
				t.Errorf("%s: %s %s does not validate with the new key's DS", stage, q.name, typeName(q.qtype))
			}
			if got := validates(oldAnchor, q.name, q.qtype); got != oldOK {
				t.Errorf("%s: %s %s validates with the old key's DS: %v, want %v", stage, q.name, typeName(q.qtype), got, oldOK)
			}
		}
	}
	if cdsTag() != old[0].Tag() {
		t.Errorf("CDS names key %d before the sync time, want the old %d", cdsTag(), old[0].Tag())
	}
	check("both keys signing", true)
	for deadline := time.Now().Add(10 * time.Second); cdsTag() != r.New[0].Tag(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("CDS still names key %d", cdsTag())
		}
	}
	check("CDS on the new key", true)
	for deadline := time.Now().Add(10 * time.Second); len(askDO(t, addr, "signed.example.", dns.TypeDNSKEY).Answer) != 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the old key is still served:\n%v", askDO(t, addr, "signed.example.", dns.TypeDNSKEY))
		}
	}
	check("old key gone", false)
}
