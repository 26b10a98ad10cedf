package zones_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"islet.dev/islet/zones"
)

const (
	xfrKeyName = "xfr.example."
	xfrSecret  = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="
)

// bigZone writes a zone of n hosts (enough for a transfer of several
// messages) with the given serial into dir and returns the folder.
func bigZone(t testing.TB, dir string, serial, n int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$TTL 3600\n@ IN SOA ns1 hostmaster %d 7200 3600 1209600 300\n@ NS ns1\n@ NS ns2.example.net.\nns1 A 192.0.2.53\n", serial)
	for i := range n {
		fmt.Fprintf(&b, "host-%d A 198.51.%d.%d\n", i, i/250, i%250+1)
	}
	b.WriteString("www TXT \"served by islet\"\n")
	if err := os.WriteFile(filepath.Join(dir, "example.com.zone"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func xfrConfig(acl ...string) zones.Config {
	key, err := zones.ParseTSIGKey("hmac-sha256:" + xfrKeyName + ":" + xfrSecret)
	if err != nil {
		panic(err)
	}
	cfg := zones.Config{TSIGKeys: []zones.TSIGKey{key}}
	for _, a := range acl {
		p, err := zones.ParseTransferACL(a)
		if err != nil {
			panic(err)
		}
		cfg.AllowTransfer = append(cfg.AllowTransfer, p)
	}
	return cfg
}

// transfer runs an AXFR or IXFR (from serial) over TCP, signed when
// secret is set, and returns the records and the messages received, or
// the first error.
func transfer(addr string, qtype uint16, serial uint32, secret string) ([]dns.RR, int, error) {
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr("example.com.", serial, "ns1.example.com.", "hostmaster.example.com.")
	} else {
		m.SetAxfr("example.com.")
	}
	tr := &dns.Transfer{}
	if secret != "" {
		m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
		tr.TsigSecret = map[string]string{xfrKeyName: secret}
	}
	env, err := tr.In(m, addr)
	if err != nil {
		return nil, 0, err
	}
	var out []dns.RR
	msgs := 0
	for e := range env {
		if e.Error != nil {
			return out, msgs, e.Error
		}
		msgs++
		out = append(out, e.RR...)
	}
	return out, msgs, nil
}

// TestTransferOut: AXFR and IXFR over TCP, every message signed with
// the request's key, refused per the ACL; signed queries answered
// signed; IXFR over UDP answered with the SOA.
func TestTransferOut(t *testing.T) {
	const hosts = 3000
	set := loadDir(t, bigZone(t, t.TempDir(), 7, hosts))
	keyed, _ := startServer(t, set, xfrConfig("127.0.0.0/8@"+xfrKeyName))
	open, _ := startServer(t, set, xfrConfig("127.0.0.1"))
	elsewhere, _ := startServer(t, set, xfrConfig("192.0.2.0/24"))
	none, _ := startServer(t, set, zones.Config{})
	want := hosts + 6 // SOA, 2 NS, ns1 A, TXT, the hosts, SOA again

	rrs, msgs, err := transfer(keyed, dns.TypeAXFR, 0, xfrSecret)
	if err != nil {
		t.Fatalf("signed AXFR: %v", err)
	}
	if len(rrs) != want || rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
		t.Errorf("signed AXFR: %d records, want %d between two SOAs", len(rrs), want)
	}
	if msgs < 3 {
		t.Errorf("signed AXFR of %d records came in %d messages: the chained signatures of later messages are not tested", len(rrs), msgs)
	}
	if rrs, _, err := transfer(open, dns.TypeAXFR, 0, ""); err != nil || len(rrs) != want {
		t.Errorf("unsigned AXFR where no key is asked: %d records, %v", len(rrs), err)
	}
	if rrs, _, err := transfer(open, dns.TypeAXFR, 0, xfrSecret); err != nil || len(rrs) != want {
		t.Errorf("signed AXFR where no key is asked: %d records, %v", len(rrs), err)
	}
	// A signed IXFR of many differences: messages made one by one, each
	// signed, the later ones chained to the one before.
	j, err := zones.NewJournal("", 0)
	if err != nil {
		t.Fatal(err)
	}
	small := loadDir(t, bigZone(t, t.TempDir(), 6, 10)).Zones()[0]
	if _, err := j.Record(nil, small); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(small, set.Zones()[0]); err != nil {
		t.Fatal(err)
	}
	jcfg := xfrConfig("127.0.0.0/8@" + xfrKeyName)
	jcfg.Journal = j
	journaled, _ := startServer(t, set, jcfg)
	ixfr, msgs, err := transfer(journaled, dns.TypeIXFR, 6, xfrSecret)
	if err != nil || msgs < 3 || len(ixfr) != hosts-10+4 {
		t.Errorf("signed IXFR of %d additions: %d records in %d messages, %v; want %d in 3 or more", hosts-10, len(ixfr), msgs, err, hosts-10+4)
	}
	// Unsigned whole transfers are packed once and kept: a second one,
	// and an IXFR answered with the whole zone, come from the copy,
	// with their own ID, type and question case.
	first, _, _ := transfer(open, dns.TypeAXFR, 0, "")
	for _, qt := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
		m := new(dns.Msg)
		if qt == dns.TypeIXFR {
			m.SetIxfr("Example.COM.", 3, "ns1.example.com.", "hostmaster.example.com.")
		} else {
			m.SetAxfr("Example.COM.")
		}
		c, err := dns.Dial("tcp", open)
		if err != nil {
			t.Fatal(err)
		}
		c.WriteMsg(m)
		r, err := c.ReadMsg()
		c.Close()
		if err != nil || r.Id != m.Id || len(r.Question) != 1 || r.Question[0].Name != "Example.COM." || r.Question[0].Qtype != qt || !r.Authoritative {
			t.Errorf("%s from the packed copy: first message %v, %v", dns.TypeToString[qt], r, err)
		}
		rrs, _, err := transfer(open, qt, 3, "")
		if err != nil || len(rrs) != len(first) || rrs[1].String() != first[1].String() {
			t.Errorf("%s from the packed copy: %d records, %v; want the %d of the first", dns.TypeToString[qt], len(rrs), err, len(first))
		}
	}
	for _, tc := range []struct {
		name, addr, secret, want string
	}{
		{"unsigned where the key is asked", keyed, "", "bad xfr rcode: 5"},
		{"outside the ACL", elsewhere, "", "bad xfr rcode: 5"},
		{"no ACL at all", none, "", "bad xfr rcode: 5"},
		{"wrong secret", keyed, "d3Jvbmctc2VjcmV0", "bad"},
	} {
		rrs, _, err := transfer(tc.addr, dns.TypeAXFR, 0, tc.secret)
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(rrs) != 0 {
			t.Errorf("AXFR %s: %d records, error %v; want none and %q", tc.name, len(rrs), err, tc.want)
		}
	}

	// IXFR: islet keeps no history, so a client behind gets the whole
	// zone, one at the serial or after it the SOA alone.
	if rrs, _, err := transfer(keyed, dns.TypeIXFR, 6, xfrSecret); err != nil || len(rrs) != want {
		t.Errorf("IXFR from serial 6: %d records, %v; want the whole zone", len(rrs), err)
	}
	for _, serial := range []uint32{7, 9} {
		rrs, _, err := transfer(keyed, dns.TypeIXFR, serial, xfrSecret)
		if err != nil || len(rrs) != 1 || rrs[0].(*dns.SOA).Serial != 7 {
			t.Errorf("IXFR from serial %d: %v, %v; want the SOA alone", serial, rrs, err)
		}
	}
	c := &dns.Client{TsigSecret: map[string]string{xfrKeyName: xfrSecret}}
	m := new(dns.Msg)
	m.SetIxfr("example.com.", 3, "ns1.example.com.", "hostmaster.example.com.")
	m.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	if r, _, err := c.Exchange(m, keyed); err != nil || len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeSOA || r.IsTsig() == nil {
		t.Errorf("IXFR over UDP: %v, %v; want the SOA alone, signed", r, err)
	}

	// Signed queries are answered signed (the client checks the MAC);
	// an unknown key gets NOTAUTH with BADKEY, unsigned.
	q := new(dns.Msg).SetQuestion("www.example.com.", dns.TypeTXT)
	q.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	r, _, err := c.Exchange(q, keyed)
	if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.IsTsig() == nil {
		t.Errorf("signed TXT query: %v, %v", r, err)
	}
	q = new(dns.Msg).SetQuestion("www.example.com.", dns.TypeTXT)
	q.SetTsig("other.example.", dns.HmacSHA256, 300, time.Now().Unix())
	c2 := &dns.Client{TsigSecret: map[string]string{"other.example.": xfrSecret}}
	r, _, _ = c2.Exchange(q, keyed)
	if r == nil || r.Rcode != dns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadKey || r.IsTsig().MAC != "" {
		t.Errorf("query signed with an unknown key: %v; want NOTAUTH, BADKEY, no MAC", r)
	}
	// signed 20 minutes ago, beyond the 5 minutes of fudge
	q = new(dns.Msg).SetQuestion("www.example.com.", dns.TypeTXT)
	q.SetTsig(xfrKeyName, dns.HmacSHA256, 300, time.Now().Unix()-1200)
	r, _, _ = c.Exchange(q, keyed)
	if r == nil || r.Rcode != dns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadTime || r.IsTsig().MAC == "" || len(r.Answer) != 0 {
		t.Errorf("query signed too long ago: %v; want NOTAUTH, BADTIME, signed, no answer", r)
	}
}

func TestParseTransferFlags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"hmac-sha512:k.example:" + xfrSecret, "{k.example. hmac-sha512. " + xfrSecret + "}"},
		{"k:" + xfrSecret, "{k. hmac-sha256. " + xfrSecret + "}"},
		{"hmac-md5:k:" + xfrSecret, "error"},
		{"k:not base64!", "error"},
		{"k", "error"},
	} {
		k, err := zones.ParseTSIGKey(tc.in)
		got := fmt.Sprint(k)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("ParseTSIGKey(%q) = %s (%v), want %s", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.0/24@xfr", "192.0.2.0/24 xfr."},
		{"192.0.2.7/24", "192.0.2.0/24 "},
		{"2001:db8::1", "2001:db8::1/128 "},
		{"nonsense", "error"},
	} {
		a, err := zones.ParseTransferACL(tc.in)
		got := a.Prefix.String() + " " + a.Key
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("ParseTransferACL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n, err := zones.ParseNotifyTarget("[2001:db8::2]:5300@Xfr"); err != nil || n.Addr != netip.MustParseAddrPort("[2001:db8::2]:5300") || n.Key != "xfr." {
		t.Errorf("ParseNotifyTarget = %+v, %v", n, err)
	}
	if _, err := zones.ParseNotifyTarget("ns.example:53"); err == nil {
		t.Error("ParseNotifyTarget took a host name")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	os.WriteFile(file, []byte("# comment\n\nk1:"+xfrSecret+"\n  hmac-sha1:k2:"+xfrSecret+"  \n"), 0o600)
	if keys, err := zones.ReadTSIGKeys(file); err != nil || len(keys) != 2 || keys[1].Algorithm != dns.HmacSHA1 {
		t.Errorf("ReadTSIGKeys = %v, %v", keys, err)
	}
	os.Chmod(file, 0o640)
	if _, err := zones.ReadTSIGKeys(file); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("ReadTSIGKeys of a file others can read: %v", err)
	}
	os.Chmod(file, 0o600)
	os.WriteFile(file, []byte("k1:"+xfrSecret+"\nk2\n"), 0o600)
	if _, err := zones.ReadTSIGKeys(file); err == nil || !strings.Contains(err.Error(), file+":2: ") {
		t.Errorf("ReadTSIGKeys of a bad line: %v", err)
	}
}

// writeZone writes example.com with serial and a www address, and loads
// it.
func writeZone(t *testing.T, dir string, serial int, www string) *zones.Set {
	t.Helper()
	text := fmt.Sprintf("$TTL 3600\n@ SOA ns1 hostmaster %d 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\nwww A %s\nmail A 192.0.2.25\n", serial, www)
	if err := os.WriteFile(filepath.Join(dir, "example.com.zone"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return loadDir(t, dir)
}

// TestIXFRJournal: after changes the journal recorded, an IXFR from an
// older serial gets the differences (RFC 1995 §4), chained; a change
// without a new serial is served under a new one; the history survives
// a restart, and a history that does not reach back gets the whole zone.
func TestIXFRJournal(t *testing.T) {
	zdir, jdir := t.TempDir(), t.TempDir()
	j, err := zones.NewJournal(jdir, 0)
	if err != nil {
		t.Fatal(err)
	}
	record := func(j *zones.Journal, prev, z *zones.Zone) string {
		t.Helper()
		msg, err := j.Record(prev, z)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	set1 := writeZone(t, zdir, 1, "192.0.2.80")
	z1 := set1.Zones()[0]
	record(j, nil, z1)
	set2 := writeZone(t, zdir, 2, "192.0.2.81")
	z2 := set2.Zones()[0]
	record(j, z1, z2)
	// changed, serial kept: served as a later one
	set3 := writeZone(t, zdir, 2, "192.0.2.82")
	z3 := set3.Zones()[0]
	if msg := record(j, z2, z3); !strings.Contains(msg, "serving it as serial") || z3.Serial() <= 2 {
		t.Errorf("a change under the same serial: %q, serial %d", msg, z3.Serial())
	}
	cfg := xfrConfig("127.0.0.1")
	cfg.Journal = j
	addr, _ := startServer(t, set3, cfg)
	text := func(rrs []dns.RR) string {
		var b strings.Builder
		for _, rr := range rrs {
			h := rr.Header()
			switch v := rr.(type) {
			case *dns.SOA:
				fmt.Fprintf(&b, "SOA %d\n", v.Serial)
			case *dns.A:
				fmt.Fprintf(&b, "%s %s\n", h.Name, v.A)
			}
		}
		return b.String()
	}
	s3 := z3.Serial()
	rrs, _, err := transfer(addr, dns.TypeIXFR, 1, "")
	want := fmt.Sprintf("SOA %d\nSOA 1\nwww.example.com. 192.0.2.80\nSOA 2\nwww.example.com. 192.0.2.81\nSOA 2\nwww.example.com. 192.0.2.81\nSOA %d\nwww.example.com. 192.0.2.82\nSOA %d\n", s3, s3, s3)
	if err != nil || text(rrs) != want {
		t.Errorf("IXFR from 1: %v\n%s\nwant\n%s", err, text(rrs), want)
	}
	rrs, _, err = transfer(addr, dns.TypeIXFR, 2, "")
	if err != nil || len(rrs) != 6 {
		t.Errorf("IXFR from 2: %v, %d records, want 6:\n%s", err, len(rrs), text(rrs))
	}
	if rrs, _, err := transfer(addr, dns.TypeIXFR, 0, ""); err != nil || len(rrs) != 6 || !strings.Contains(text(rrs), "mail.example.com.") {
		t.Errorf("IXFR from a serial the history does not know: %v\n%s\nwant the whole zone", err, text(rrs))
	}

	// A restart: the zone file still says serial 2, as the served
	// version was 2 made later; then an edit under that serial again.
	j2, err := zones.NewJournal(jdir, 0)
	if err != nil {
		t.Fatal(err)
	}
	set4 := writeZone(t, zdir, 2, "192.0.2.82")
	z4 := set4.Zones()[0]
	if msg := record(j2, nil, z4); msg != "" || z4.Serial() != s3 {
		t.Errorf("after a restart, the same records: %q, serial %d, want %d as served before", msg, z4.Serial(), s3)
	}
	set5 := writeZone(t, zdir, 2, "192.0.2.83")
	z5 := set5.Zones()[0]
	record(j2, z4, z5)
	if z5.Serial() <= s3 {
		t.Errorf("after a restart, a change under the file's old serial is served as %d, not after %d", z5.Serial(), s3)
	}
	cfg.Journal = j2
	addr2, _ := startServer(t, set5, cfg)
	if rrs, _, err := transfer(addr2, dns.TypeIXFR, 1, ""); err != nil || len(rrs) != 14 {
		t.Errorf("IXFR from 1 after a restart: %v, %d records, want 14 (three differences):\n%s", err, len(rrs), text(rrs))
	}
}
