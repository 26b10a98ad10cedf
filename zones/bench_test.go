package zones

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// writeBigZone writes a zone of about 4.2 records per host.
func writeBigZone(b testing.TB, hosts int) string {
	dir := b.TempDir()
	var s strings.Builder
	s.WriteString("$ORIGIN bench.example.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nmail A 192.0.2.25\n*.wild A 192.0.2.99\n")
	for i := 0; i < hosts; i++ {
		fmt.Fprintf(&s, "h%d A 10.%d.%d.%d\nh%d AAAA 2001:db8::%x:%x\nh%d MX 10 mail\nh%d TXT \"host %d\"\n", i, i>>16&255, i>>8&255, i&255, i, i>>16, i&0xffff, i, i, i)
		if i%10 == 0 {
			fmt.Fprintf(&s, "c%d CNAME h%d\n", i, i)
		}
		if i%20 == 0 {
			fmt.Fprintf(&s, "d%d NS ns.d%d\nns.d%d A 10.200.%d.%d\n", i, i, i, i>>8&255, i&255)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.example.zone"), []byte(s.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

func BenchmarkLoad100k(b *testing.B) {
	dir := writeBigZone(b, 100000*10/42)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := LoadDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandle measures the query path alone, without sockets, on a
// mix of compiled answers.
func BenchmarkHandle(b *testing.B) {
	set, _, err := LoadDir(writeBigZone(b, 400))
	if err != nil {
		b.Fatal(err)
	}
	srv, _ := New(Config{}, set)
	var pkts [][]byte
	for _, q := range []string{"h1.bench.example. A", "c10.bench.example. A", "nx.bench.example. A", "h2.bench.example. SRV", "www.d20.bench.example. A", "x.wild.bench.example. A"} {
		f := strings.Fields(q)
		m := new(dns.Msg).SetQuestion(f[0], dns.StringToType[f[1]])
		m.SetEdns0(1232, false)
		p, _ := m.Pack()
		pkts = append(pkts, p)
	}
	sc := newScratch()
	out := make([]byte, 0, 4096)
	client := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if srv.handle(pkts[i%len(pkts)], out, sc, client, false) == nil {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkHandleUDPRRL is BenchmarkHandle through the UDP entry with
// response-rate limiting on, from 65,536 clients of 256 prefixes, each
// within its budget: the limit's own cost per query.
func BenchmarkHandleUDPRRL(b *testing.B) {
	set, _, err := LoadDir(writeBigZone(b, 400))
	if err != nil {
		b.Fatal(err)
	}
	srv, _ := New(Config{RRL: RRLConfig{Rate: 1 << 30}}, set)
	m := new(dns.Msg).SetQuestion("h1.bench.example.", dns.TypeA)
	m.SetEdns0(1232, false)
	pkt, _ := m.Pack()
	sc := newScratch()
	out := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		client := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if srv.observedUDP(pkt, out, sc, client) == nil {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkLoadDir loads the zones folder ISLET_BENCH_ZONES names (a
// million-record zone of bench/dns.sh, a real zone), or skips.
func BenchmarkLoadDir(b *testing.B) {
	dir := os.Getenv("ISLET_BENCH_ZONES")
	if dir == "" {
		b.Skip("ISLET_BENCH_ZONES names no zones folder")
	}
	for i := 0; i < b.N; i++ {
		if _, _, err := LoadDir(dir); err != nil {
			b.Fatal(err)
		}
	}
}
