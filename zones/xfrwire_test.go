package zones

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/miekg/dns"
)

// checkTransferWire writes z's whole transfer and fails unless its
// messages unpack, stay within the message size, carry the question in
// the first only, and hold the records chunkAll holds, in its order and
// in the same wire form. It returns the number of messages, and their
// octets over those of the records uncompressed.
func checkTransferWire(t *testing.T, z *Zone) (int, float64) {
	t.Helper()
	var want []dns.RR
	for _, c := range z.chunkAll() {
		want = append(want, c...)
	}
	var got []dns.RR
	messages, size := 0, 0
	for b, err := range z.transferWire() {
		if err != nil {
			t.Fatal(err)
		}
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			t.Fatalf("message %d does not unpack: %v", messages, err)
		}
		if len(b) > 12+transferMessageSize && len(m.Answer) > 1 {
			t.Errorf("message %d: %d octets with %d records", messages, len(b), len(m.Answer))
		}
		if (messages == 0) != (len(m.Question) == 1) || !m.Response || !m.Authoritative {
			t.Errorf("message %d: question %v, QR %v, AA %v", messages, m.Question, m.Response, m.Authoritative)
		}
		if messages == 0 && (m.Question[0].Name != z.Origin || m.Question[0].Qtype != dns.TypeAXFR) {
			t.Errorf("question %v", m.Question[0])
		}
		got = append(got, m.Answer...)
		messages++
		size += len(b)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records sent, want %d", len(got), len(want))
	}
	plain := 0
	for i := range want {
		if !bytes.Equal(packedForm(t, got[i]), packedForm(t, want[i])) {
			t.Errorf("record %d sent as\n%s\nwant\n%s", i, got[i], want[i])
		}
		plain += len(packedForm(t, want[i]))
	}
	return messages, float64(size) / float64(plain)
}

func TestTransferWireFixtures(t *testing.T) {
	paths, _ := filepath.Glob("testdata/conformance/*.zone")
	if len(paths) < 3 {
		t.Fatalf("only %d fixtures found", len(paths))
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		set, diags, err := LoadFS(fstest.MapFS{name: {Data: data}}, "zones")
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, diags)
		}
		t.Run(name, func(t *testing.T) { checkTransferWire(t, set.Zones()[0]) })
	}
}

// TestTransferWireMessages sends a zone that takes many messages, with
// names in RDATA in both cases and records larger than most.
func TestTransferWireMessages(t *testing.T) {
	var b strings.Builder
	b.WriteString("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "h%d A 10.0.%d.%d\nh%d MX 10 Mail.example.org.\nh%d MX 20 mail\nh%d CNAME h%d\n", i, i/256, i%256, i, i, i+100000, i)
		if i%500 == 0 {
			fmt.Fprintf(&b, "t%d TXT \"%s\" \"%s\"\n", i, strings.Repeat("x", 255), strings.Repeat("y", 255))
		}
	}
	set, diags, err := LoadFS(fstest.MapFS{"example.org.zone": {Data: []byte(b.String())}}, "zones")
	if err != nil {
		t.Fatalf("%v\n%s", err, diags)
	}
	n, ratio := checkTransferWire(t, set.Zones()[0])
	if n < 10 {
		t.Errorf("%d messages, want more", n)
	}
	if ratio > 0.6 {
		t.Errorf("the transfer takes %.2f of the records' octets uncompressed", ratio)
	}
	t.Logf("%d messages, %.2f of the octets uncompressed", n, ratio)
}
