//go:build peers

package zones_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"islet.dev/islet/internal/dnspeer"
	"islet.dev/islet/internal/testpeer"
)

// TestSignedLikeNSD serves each signed fixture with NSD and islet and
// asks both the signed cases and every query zoneQueries makes of the
// zone, with DO=1 and without: on the committed fixtures (their answers
// to the signed cases are what signed-nsd.golden holds; -update records
// them) and on the same zone signed afresh by ldns-signzone and
// dnssec-signzone.
func TestSignedLikeNSD(t *testing.T) {
	committed, err := filepath.Abs(filepath.Join("testdata", "dnssec"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := signAfresh(t)
	answers := map[string]string{}
	var names []string
	for _, dir := range []string{committed, fresh} {
		for _, v := range signedVariants {
			t.Run(filepath.Base(dir)+"/"+v, func(t *testing.T) {
				file := signedFile(dir, v)
				nsd := dnspeer.StartNSD(t, []dnspeer.Zone{{Origin: "signed.example.", File: file}})
				islet, _ := startServer(t, loadDir(t, filepath.Join(dir, v)), peerConfig("nsd"))
				var cases []conformanceCase
				for _, c := range signedCases {
					tc := c.conformance(file)
					if dir == committed {
						key := v + ": " + tc.name
						names = append(names, key)
						answers[key] = tc.ask(t, nsd)
					}
					cases = append(cases, tc)
				}
				cases = append(cases, zoneQueries(t, file, "signed.example.")...)
				differ := 0
				for _, tc := range cases {
					if nsdBogus[v+": "+tc.name] {
						continue // TestSignedValidates checks islet's answer
					}
					want, got := tc.ask(t, nsd), tc.ask(t, islet)
					if got != want {
						differ++
						if differ <= 12 {
							t.Errorf("%s:\n%s", tc.name, lineDiffText(want, got))
						}
					}
				}
				if differ > 0 {
					t.Errorf("%d of %d answers differ from NSD's", differ, len(cases))
				}
			})
		}
	}
	if *update {
		var cases []conformanceCase
		for _, n := range names {
			cases = append(cases, conformanceCase{name: n})
		}
		writeGolden(t, signedGoldenPath(), cases, answers)
		return
	}
	golden := readGolden(t, signedGoldenPath())
	for _, n := range names {
		if golden[n] != answers[n] {
			t.Errorf("%s is stale for %q (go test -tags peers -run Signed ./zones -update):\n%s", signedGoldenPath(), n, lineDiffText(golden[n], answers[n]))
		}
	}
}

// signAfresh signs the source zone with new keys into a temporary folder.
func signAfresh(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"ldns-keygen", "ldns-signzone", "dnssec-keygen", "dnssec-signzone", "dnssec-dsfromkey"} {
		testpeer.Require(t, tool)
	}
	dir := filepath.Join(t.TempDir(), "fresh")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "dnssec", "sign.sh"))
	if out, err := exec.Command("bash", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("sign.sh: %v\n%s", err, out)
	}
	return dir
}

// TestSignedValidates asks delv, a validating resolver, for every signed
// case served by islet, with the fixture's DS as its trust anchor: every
// answer must validate, except those an opt-out span rightly leaves
// insecure, and referrals, which a stub cannot follow.
func TestSignedValidates(t *testing.T) {
	delv := testpeer.Require(t, "delv")
	fresh := signAfresh(t)
	for _, v := range signedVariants {
		t.Run(v, func(t *testing.T) {
			addr, _ := startServer(t, loadDir(t, filepath.Join(fresh, v)), peerConfig("nsd"))
			anchor := writeAnchor(t, filepath.Join(fresh, v+".ds"))
			host, port, _ := strings.Cut(addr, ":")
			optout := strings.Contains(v, "optout")
			for _, c := range signedCases {
				if c.referral || c.plain || c.qtype == dns.TypeRRSIG || c.qtype == dns.TypeNSEC3 {
					continue // meta queries are not validated
				}
				name := c.name(signedFile(fresh, v))
				out, _ := exec.Command(delv, "@"+host, "-p", port, "-a", anchor, "+root=signed.example",
					name, typeName(c.qtype)).CombinedOutput()
				text := string(out)
				switch {
				case strings.Contains(text, "fully validated"):
				case optout && c.insecure && strings.Contains(text, "unsigned answer"):
				default:
					t.Errorf("%s %s does not validate:\n%s", name, typeName(c.qtype), text)
				}
			}
		})
	}
}

// writeAnchor turns a DS record file into delv's trust-anchors clause.
func writeAnchor(t *testing.T, dsFile string) string {
	t.Helper()
	data, err := os.ReadFile(dsFile)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := dns.NewRR(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("%s: %v", dsFile, err)
	}
	ds, ok := rr.(*dns.DS)
	if !ok {
		t.Fatalf("%s: not a DS record", dsFile)
	}
	conf := fmt.Sprintf("trust-anchors { %s initial-ds %d %d %d \"%s\"; };\n", ds.Hdr.Name, ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
	path := filepath.Join(t.TempDir(), "anchor.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func typeName(t uint16) string { return dns.TypeToString[t] }

// TestSignedUnbound resolves through Unbound, a validating resolver,
// with islet as the signed zone's only server and the fixture's DS as
// trust anchor: answers from the zone are secure (AD), and the insecure
// delegation is provably insecure (its DS NODATA secure).
func TestSignedUnbound(t *testing.T) {
	bin := testpeer.Require(t, "unbound")
	fresh := signAfresh(t)
	for _, v := range []string{"nsec", "nsec3", "bind-optout"} {
		t.Run(v, func(t *testing.T) {
			islet, _ := startServer(t, loadDir(t, filepath.Join(fresh, v)), peerConfig("nsd"))
			resolver := startUnbound(t, bin, islet, filepath.Join(fresh, v+".ds"))
			optout := strings.Contains(v, "optout")
			for _, c := range []struct {
				name  string
				qtype uint16
				rcode int
				data  bool
				// insecure: with opt-out, the proof shows the name could
				// be an insecure delegation, so the answer is insecure
				// (no AD), not bogus (RFC 5155 §9.2).
				insecure bool
			}{
				{"www.signed.example.", dns.TypeA, dns.RcodeSuccess, true, false},
				{"signed.example.", dns.TypeMX, dns.RcodeSuccess, true, false},
				{"mail.signed.example.", dns.TypeMX, dns.RcodeSuccess, false, false},
				{"nx.signed.example.", dns.TypeA, dns.RcodeNameError, false, true},
				{"b.c.signed.example.", dns.TypeA, dns.RcodeSuccess, false, false},
				{"exists.wild.signed.example.", dns.TypeTXT, dns.RcodeSuccess, false, false},
				{"secure.signed.example.", dns.TypeDS, dns.RcodeSuccess, true, false},
				{"insecure.signed.example.", dns.TypeDS, dns.RcodeSuccess, false, true},
				{"dn.signed.example.", dns.TypeDNAME, dns.RcodeSuccess, true, false},
			} {
				m := new(dns.Msg).SetQuestion(c.name, c.qtype)
				m.SetEdns0(1232, true)
				r := exchange(t, "udp", resolver, m)
				wantAD := !(optout && c.insecure)
				if r.Rcode != c.rcode || r.AuthenticatedData != wantAD || (len(r.Answer) > 0) != c.data {
					t.Errorf("%s %s: rcode %s AD %v, %d answers; want %s, AD %v, answers %v:\n%s", c.name, typeName(c.qtype),
						dns.RcodeToString[r.Rcode], r.AuthenticatedData, len(r.Answer), dns.RcodeToString[c.rcode], wantAD, c.data, r)
				}
			}
		})
	}
}

// startUnbound runs a validating Unbound that asks only islet, at addr,
// for signed.example, trusting the DS in dsFile.
func startUnbound(t *testing.T, bin, addr, dsFile string) string {
	t.Helper()
	ds, err := os.ReadFile(dsFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := dnspeer.FreePort(t)
	host, iport, _ := strings.Cut(addr, ":")
	conf := fmt.Sprintf(`server:
  interface: 127.0.0.1@%d
  port: %d
  username: ""
  chroot: ""
  directory: %q
  pidfile: %q
  use-syslog: no
  logfile: %q
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor: %q
  val-log-level: 2
  qname-minimisation: no
remote-control:
  control-enable: no
stub-zone:
  name: "signed.example."
  stub-addr: %s@%s
`, port, port, dir, filepath.Join(dir, "unbound.pid"), filepath.Join(dir, "unbound.log"),
		strings.Join(strings.Fields(string(ds)), " "), host, iport)
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-d", "-c", path)
	if out, err := cmd.StderrPipe(); err == nil {
		go io.Copy(io.Discard, out)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	resolver := fmt.Sprintf("127.0.0.1:%d", port)
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, _, err := c.Exchange(new(dns.Msg).SetQuestion("signed.example.", dns.TypeSOA), resolver); err == nil {
			return resolver
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "unbound.log"))
	t.Fatalf("unbound did not start:\n%s", log)
	return ""
}
