package zones

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"
)

// FuzzHandle feeds arbitrary packets to the query path over UDP and TCP
// rules. It must never panic, answer only with well-formed messages that
// carry the query's ID, and keep UDP answers within the size asked for.
func FuzzHandle(f *testing.F) {
	set, _, err := LoadDir("testdata/conformance")
	if err != nil {
		f.Fatal(err)
	}
	// A signed zone beside them: DO=1 answers carry RRSIGs and proofs.
	signed, _, err := LoadDir("testdata/dnssec/bind-optout")
	if err != nil {
		f.Fatal(err)
	}
	set = set.With(signed.Zones()[0])
	// example.net signed here with compact denial: names that do not
	// exist, and wildcard answers, are signed per query.
	ks, err := OpenKeyStore(f.TempDir(), dns.ECDSAP256SHA256)
	if err != nil {
		f.Fatal(err)
	}
	compact, _, err := NewSigner(ks, SignOptions{Denial: DenyCompact}).Sign(set.ZoneFor("example.net."), nil)
	if err != nil {
		f.Fatal(err)
	}
	set = set.With(compact)
	for _, q := range []struct {
		name string
		t    uint16
	}{{"example.com.", dns.TypeMX}, {"x.wild.example.com.", dns.TypeA}, {"x.dn.example.com.", dns.TypeA},
		{"big.example.com.", dns.TypeTXT}, {"host.deleg.example.com.", dns.TypeA}, {"nx.example.com.", dns.TypeAAAA},
		{"a.b.x.wild.signed.example.", dns.TypeTXT}, {"nx.signed.example.", dns.TypeA}, {"insecure.signed.example.", dns.TypeDS},
		{"x.insecure2.signed.example.", dns.TypeA}, {"big.signed.example.", dns.TypeTXT},
		{"nx.example.net.", dns.TypeA}, {"a.b.example.net.", dns.TypeNSEC}, {"example.net.", dns.TypeNXNAME}} {
		m := new(dns.Msg).SetQuestion(q.name, q.t)
		p, _ := m.Pack()
		f.Add(p, false)
		m.SetEdns0(1232, true)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0011223344556677"}, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		p, _ = m.Pack()
		f.Add(p, true)
	}
	srv, err := New(Config{NSID: "fuzz", Chaos: true, Identity: "id", Version: "v"}, set)
	if err != nil {
		f.Fatal(err)
	}
	sc := newScratch()
	client := netip.MustParseAddr("2001:db8::1")
	f.Fuzz(func(t *testing.T, pkt []byte, tcp bool) {
		resp := srv.handle(pkt, make([]byte, 0, 512), sc, client, tcp)
		if resp == nil {
			return
		}
		if len(pkt) < 12 {
			t.Fatal("answered a runt packet")
		}
		var m dns.Msg
		if err := m.Unpack(resp); err != nil {
			t.Fatalf("response does not unpack: %v\n% x", err, resp)
		}
		if m.Id != binary.BigEndian.Uint16(pkt) || !m.Response {
			t.Fatalf("response id %d / QR %v for query id %d", m.Id, m.Response, binary.BigEndian.Uint16(pkt))
		}
		if !tcp {
			var q query
			var lower [256]byte
			limit := 512
			if parseQuery(pkt, &q, lower[:]) == nil && q.edns {
				limit = max(512, min(int(q.udpSize), srv.cfg.MaxUDPSize))
			}
			if len(resp) > limit {
				t.Fatalf("UDP response of %d octets over the limit %d", len(resp), limit)
			}
		}
	})
}

// FuzzLoadZone loads arbitrary zone text. Loading must never panic; a
// zone that loads must answer queries for its names without panicking.
func FuzzLoadZone(f *testing.F) {
	f.Add("$TTL 300\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n*.w CNAME @\nd DNAME x.\n")
	f.Add("$ORIGIN example.org.\n@ 60 IN SOA ns hm (1 2 3 4 5)\n NS ns.sub\nsub NS ns.sub\nns.sub A 192.0.2.1\n$GENERATE 1-5 h$ A 192.0.2.$\n")
	f.Add("@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns AAAA ::1\nt TXT \"a;b\" (\n \"c\" )\nu TYPE65280 \\# 2 0102\n")
	f.Add("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n$GENERATE 1-3 ${0,3,n}.r PTR h$\nl LOC 52 1 N 4 E 0\ni IPSECKEY 1 0 2 . AQ==\nz A 1.2.3.4\n")
	f.Fuzz(func(t *testing.T, text string) {
		fsys := fstest.MapFS{"example.org.zone": {Data: []byte(text)}}
		set, diags, err := LoadFS(fsys, "zones")
		if (err == nil) == diags.HasErrors() {
			t.Fatalf("err %v but HasErrors %v", err, diags.HasErrors())
		}
		if set == nil {
			return
		}
		srv, err := New(Config{}, set)
		if err != nil {
			t.Fatal(err)
		}
		sc := newScratch()
		for _, z := range set.Zones() {
			for _, rr := range z.RRs() {
				for _, name := range []string{rr.Header().Name, "x." + rr.Header().Name} {
					for _, qt := range []uint16{dns.TypeA, rr.Header().Rrtype, dns.TypeANY} {
						p, err := new(dns.Msg).SetQuestion(name, qt).Pack()
						if err != nil {
							continue
						}
						if resp := srv.handle(p, nil, sc, netip.Addr{}, false); resp != nil {
							var m dns.Msg
							if err := m.Unpack(resp); err != nil {
								t.Fatalf("%s %d: response does not unpack: %v", name, qt, err)
							}
						}
					}
				}
			}
		}
	})
}

// discard is a connection that takes every write deadline.
type discard struct{ net.Conn }

func (discard) SetWriteDeadline(time.Time) error { return nil }

// FuzzTransfer feeds arbitrary packets to a server that has a TSIG key
// and lets the client transfer: the signed-query path over UDP and TCP
// and the transfer path over TCP. Nothing may panic; every message
// written must unpack and carry the query's ID.
func FuzzTransfer(f *testing.F) {
	set, _, err := LoadDir("testdata/conformance")
	if err != nil {
		f.Fatal(err)
	}
	key, err := ParseTSIGKey("hmac-sha256:k.example:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==")
	if err != nil {
		f.Fatal(err)
	}
	acl, _ := ParseTransferACL("2001:db8::/32")
	keyed, _ := ParseTransferACL("192.0.2.0/24@k.example")
	srv, err := New(Config{TSIGKeys: []TSIGKey{key}, AllowTransfer: []TransferACL{acl, keyed}}, set)
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range []*dns.Msg{
		new(dns.Msg).SetAxfr("example.com."),
		new(dns.Msg).SetIxfr("example.com.", 1, "ns.example.com.", "hm.example.com."),
		new(dns.Msg).SetQuestion("www.example.com.", dns.TypeA),
		new(dns.Msg).SetAxfr("nowhere.example."),
	} {
		p, _ := m.Pack()
		f.Add(p, true)
		m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
		p, _, err := dns.TsigGenerate(m, key.Secret, "", false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p, true)
		f.Add(p, false)
	}
	sc := newScratch()
	clients := []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1")}
	f.Fuzz(func(t *testing.T, pkt []byte, tcp bool) {
		for _, client := range clients {
			var resps [][]byte
			if tcp && isTransfer(pkt) {
				var b bytes.Buffer
				w := bufio.NewWriter(&b)
				srv.serveTransfer(discard{}, w, pkt, client)
				for rest := b.Bytes(); len(rest) > 0; {
					if len(rest) < 2 || len(rest) < 2+int(binary.BigEndian.Uint16(rest)) {
						t.Fatalf("a transfer's message is cut: % x", rest)
					}
					n := int(binary.BigEndian.Uint16(rest))
					resps, rest = append(resps, rest[2:2+n]), rest[2+n:]
				}
			} else if resp := srv.handle(pkt, make([]byte, 0, 512), sc, client, tcp); resp != nil {
				resps = append(resps, resp)
			}
			for _, resp := range resps {
				var m dns.Msg
				if err := m.Unpack(resp); err != nil {
					t.Fatalf("response does not unpack: %v\n% x", err, resp)
				}
				if m.Id != binary.BigEndian.Uint16(pkt) || !m.Response {
					t.Fatalf("response id %d / QR %v for query id %d", m.Id, m.Response, binary.BigEndian.Uint16(pkt))
				}
			}
		}
	})
}

// FuzzJournalFile reads arbitrary journal files: a damaged one is an
// error, never a panic, and one that reads gives differences that
// follow one another.
func FuzzJournalFile(f *testing.F) {
	f.Add("; from 1 to 2\nexample.com.\t3600\tIN\tSOA\tns1.example.com. hm.example.com. 1 2 3 4 5\nexample.com.\t3600\tIN\tSOA\tns1.example.com. hm.example.com. 2 2 3 4 5\n-www.example.com.\t3600\tIN\tA\t192.0.2.1\n+www.example.com.\t3600\tIN\tA\t192.0.2.2\n")
	f.Add("; from 1 to 2\n-x A 1.2.3.4\n")
	f.Add("+nothing before\n")
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		j, err := NewJournal(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(j.file("example.com.", ".journal"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := j.loadDeltas("example.com."); err != nil {
			return
		}
		zj := j.zones["example.com."]
		for i, d := range zj.deltas {
			if d.from == nil || d.to == nil || i > 0 && zj.deltas[i-1].to.Serial != d.from.Serial {
				t.Fatalf("difference %d read as %+v", i, d)
			}
		}
	})
}

// FuzzTransferIn applies arbitrary transfer answers to a zone, as a
// secondary does with what its primary sent: never a panic; what
// applies is validated as a zone.
func FuzzTransferIn(f *testing.F) {
	set, _, err := LoadDir("testdata/conformance")
	if err != nil {
		f.Fatal(err)
	}
	z := set.Zones()[0]
	soa2 := *z.soa
	soa2.Serial++
	www, _ := dns.NewRR("www." + z.Origin + " 60 IN A 192.0.2.99")
	for _, rrs := range [][]dns.RR{
		{&soa2, z.soa, z.RRs()[1], &soa2, www, &soa2},
		append(append([]dns.RR{&soa2}, z.RRs()...), &soa2),
		{&soa2, z.soa, &soa2},
	} {
		m := new(dns.Msg)
		m.Answer = rrs
		p, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var m dns.Msg
		if m.Unpack(pkt) != nil {
			return
		}
		rrs, _, err := applyIXFR(z.RRs(), m.Answer)
		if err != nil {
			return
		}
		if nz, _, err := Build(z.Origin, "fuzz", rrs); err == nil && nz.Serial() != rrs[0].(*dns.SOA).Serial && strings.EqualFold(rrs[0].Header().Name, z.Origin) {
			t.Fatalf("zone built with serial %d from an answer starting with %v", nz.Serial(), rrs[0])
		}
	})
}

// FuzzReadKey reads arbitrary .key and .private files: a clear error or
// a key that signs, never a panic.
func FuzzReadKey(f *testing.F) {
	ks, err := OpenKeyStore(f.TempDir(), dns.ED25519)
	if err != nil {
		f.Fatal(err)
	}
	keys, err := ks.Keys("k.example.", time.Now())
	if err != nil {
		f.Fatal(err)
	}
	pub, _ := os.ReadFile(keys[0].File)
	priv, _ := os.ReadFile(strings.TrimSuffix(keys[0].File, ".key") + ".private")
	f.Add(string(pub), string(priv))
	f.Add(string(pub), strings.Replace(string(priv), "Algorithm: 15", "Algorithm: 13", 1))
	f.Add("k.example. IN DNSKEY 257 3 13 AAAA\n", "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: AAAA\n")
	f.Add("; only a comment\n", "Publish: 2026\n")
	f.Fuzz(func(t *testing.T, pub, priv string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "Kk.example.+015+00001.key")
		os.WriteFile(file, []byte(pub), 0o644)
		os.WriteFile(strings.TrimSuffix(file, ".key")+".private", []byte(priv), 0o600)
		k, err := ReadKey(file)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		if k.DNSKEY == nil || k.signer == nil {
			t.Fatal("a key without its DNSKEY or signer")
		}
	})
}
