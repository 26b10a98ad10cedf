package netstack

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

var thinMAC = tcpip.LinkAddress("\x02islet")

// seg is a TCP segment to thinMAC, for ackFrame.
type seg struct {
	v6      bool
	sport   uint16 // the client's port (40000 if 0)
	ack     uint32
	flags   header.TCPFlags
	payload int
	opts    []byte // padded to 4 bytes
}

// tsOpt is a timestamps option, NOP-padded; sackOpt a SACK block.
var (
	tsOpt   = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}
	sackOpt = []byte{1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0}
)

// ackFrame is the Ethernet frame of s, from a client to port 443.
func ackFrame(s seg) []byte {
	tcpLen := header.TCPMinimumSize + len(s.opts) + s.payload
	ipLen := header.IPv4MinimumSize
	proto := header.IPv4ProtocolNumber
	if s.v6 {
		ipLen, proto = header.IPv6MinimumSize, header.IPv6ProtocolNumber
	}
	b := make([]byte, header.EthernetMinimumSize+ipLen+tcpLen)
	copy(b[0:6], thinMAC)
	copy(b[6:12], "\x02peer!")
	binary.BigEndian.PutUint16(b[12:14], uint16(proto))
	ip := b[header.EthernetMinimumSize:]
	if s.v6 {
		header.IPv6(ip).Encode(&header.IPv6Fields{PayloadLength: uint16(tcpLen), TransportProtocol: header.TCPProtocolNumber, HopLimit: 64,
			SrcAddr: tcpip.AddrFrom16(netip.MustParseAddr("fd90::1").As16()), DstAddr: tcpip.AddrFrom16(netip.MustParseAddr("fd90::2").As16())})
	} else {
		header.IPv4(ip).Encode(&header.IPv4Fields{TotalLength: uint16(ipLen + tcpLen), TTL: 64, Protocol: uint8(header.TCPProtocolNumber),
			SrcAddr: tcpip.AddrFrom4(clientAddr.As4()), DstAddr: tcpip.AddrFrom4(serverAddr.As4())})
	}
	sport := s.sport
	if sport == 0 {
		sport = 40000
	}
	tcp := header.TCP(ip[ipLen:])
	tcp.Encode(&header.TCPFields{SrcPort: sport, DstPort: 443, SeqNum: 1000, AckNum: s.ack,
		DataOffset: uint8(header.TCPMinimumSize + len(s.opts)), Flags: s.flags, WindowSize: 65535})
	copy(tcp[header.TCPMinimumSize:], s.opts)
	return b
}

func TestSupersededACKs(t *testing.T) {
	ack := header.TCPFlagAck
	for _, tc := range []struct {
		name  string
		batch []seg
		want  uint32 // the frames left out
	}{
		{"a stream's ACKs: all but the last", []seg{{ack: 100, flags: ack}, {ack: 200, flags: ack, opts: tsOpt}, {ack: 300, flags: ack}}, 0b011},
		{"over IPv6 too", []seg{{v6: true, ack: 100, flags: ack}, {v6: true, ack: 200, flags: ack}}, 0b01},
		{"across the wrap of the sequence space", []seg{{ack: 0xffffff00, flags: ack}, {ack: 0x100, flags: ack}}, 0b01},
		{"duplicate ACKs are counted: all kept", []seg{{ack: 100, flags: ack}, {ack: 200, flags: ack}, {ack: 200, flags: ack}, {ack: 200, flags: ack}}, 0b0001},
		{"a later ACK for less (reordered) supersedes nothing", []seg{{ack: 300, flags: ack}, {ack: 200, flags: ack}}, 0},
		{"SACK blocks are news: kept, and supersede nothing", []seg{{ack: 100, flags: ack}, {ack: 200, flags: ack, opts: sackOpt}, {ack: 100, flags: ack, opts: sackOpt}}, 0},
		{"two connections, each its own", []seg{{ack: 100, flags: ack}, {sport: 40001, ack: 500, flags: ack}, {ack: 150, flags: ack}, {sport: 40001, ack: 400, flags: ack}}, 0b0001},
		{"data is kept, and supersedes an ACK for as much or less", []seg{{ack: 100, flags: ack}, {ack: 200, flags: ack | header.TCPFlagPsh, payload: 10}, {ack: 150, flags: ack, payload: 5}}, 0b001},
		{"a request after the ACK of the response before it", []seg{{ack: 100, flags: ack, opts: tsOpt}, {ack: 100, flags: ack | header.TCPFlagPsh, payload: 100, opts: tsOpt}}, 0b01},
		{"data acknowledging less supersedes nothing", []seg{{ack: 200, flags: ack}, {ack: 100, flags: ack | header.TCPFlagPsh, payload: 100}}, 0},
		{"data with SACK blocks supersedes nothing", []seg{{ack: 100, flags: ack}, {ack: 200, flags: ack, payload: 100, opts: sackOpt}}, 0},
		{"a FIN is kept, and supersedes nothing", []seg{{ack: 100, flags: ack}, {ack: 200, flags: ack | header.TCPFlagFin}}, 0},
		{"a PSH without data is no pure ACK", []seg{{ack: 100, flags: ack | header.TCPFlagPsh}, {ack: 200, flags: ack}}, 0},
		{"an ACK before a RST is superseded by the ACK after", []seg{{ack: 100, flags: ack}, {ack: 150, flags: ack | header.TCPFlagRst}, {ack: 200, flags: ack}}, 0b001},
		{"ECN's echo is kept", []seg{{ack: 100, flags: ack}, {ack: 200, flags: ack | header.TCPFlagEce}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var frames [][]byte
			for _, s := range tc.batch {
				frames = append(frames, ackFrame(s))
			}
			if got := supersededACKs(frames, thinMAC); got != tc.want {
				t.Errorf("left out %b, want %b", got, tc.want)
			}
		})
	}
}

// TestSupersededACKsOnlyOurs keeps frames to another MAC and frames no
// pure ACK could be: fragments, truncated headers, malformed options.
func TestSupersededACKsOnlyOurs(t *testing.T) {
	later := ackFrame(seg{ack: 200, flags: header.TCPFlagAck})
	for _, tc := range []struct {
		name   string
		mangle func([]byte) []byte
	}{
		{"untouched: left out", func(b []byte) []byte { return b }},
		{"to another MAC", func(b []byte) []byte { b[0] = 0x04; return b }},
		{"a fragment", func(b []byte) []byte { b[14+6] = 0x20; return b }},
		{"cut short", func(b []byte) []byte { return b[:len(b)-4] }},
		{"a total length past the frame", func(b []byte) []byte { b[14+3] += 40; return b }},
		{"an option longer than the header", func(b []byte) []byte { b[len(b)-9] = 40; return b }},
		{"a header length that misplaces TCP", func(b []byte) []byte { b[14] = 0x46; return b }},
		{"the NS flag", func(b []byte) []byte { b[len(b)-20] |= 1; return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			earlier := tc.mangle(ackFrame(seg{ack: 100, flags: header.TCPFlagAck, opts: tsOpt}))
			want := uint32(0)
			if tc.name == "untouched: left out" {
				want = 0b01
			}
			if got := supersededACKs([][]byte{earlier, later}, thinMAC); got != want {
				t.Errorf("left out %b, want %b", got, want)
			}
		})
	}
}

// FuzzSupersededACKs cuts its input into a batch of frames: whatever
// they are, only a pure ACK is left out, and only with a later pure ACK
// of its connection that acknowledges more, or a later data segment
// that acknowledges as much.
func FuzzSupersededACKs(f *testing.F) {
	for _, batch := range [][]seg{
		{{ack: 100, flags: header.TCPFlagAck}, {ack: 200, flags: header.TCPFlagAck, opts: tsOpt}},
		{{v6: true, ack: 1, flags: header.TCPFlagAck}, {v6: true, ack: 2, flags: header.TCPFlagAck, opts: sackOpt}},
		{{ack: 7, flags: header.TCPFlagAck, opts: tsOpt}, {ack: 7, flags: header.TCPFlagAck | header.TCPFlagPsh, payload: 40}},
	} {
		var in []byte
		for _, s := range batch {
			fr := ackFrame(s)
			in = append(in, byte(len(fr)))
			in = append(in, fr...)
		}
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var frames [][]byte
		for len(in) > 0 && len(frames) < thinBatch+2 {
			n := min(int(in[0]), len(in)-1)
			frames = append(frames, in[1:1+n])
			in = in[1+n:]
		}
		skip := supersededACKs(frames, thinMAC)
		for i := range frames {
			if skip&(1<<i) == 0 {
				continue
			}
			k, a, kind := segmentKind(frames[i], thinMAC)
			if kind != pureACKSegment || i >= thinBatch {
				t.Fatalf("frame %d left out, not a pure ACK in the batch", i)
			}
			superseded := false
			for _, later := range frames[i+1 : min(len(frames), thinBatch)] {
				lk, la, lkind := segmentKind(later, thinMAC)
				if lk == k && (lkind == pureACKSegment && a.LessThan(la) || lkind == dataSegment && a.LessThanEq(la)) {
					superseded = true
				}
			}
			if !superseded {
				t.Fatalf("frame %d left out with no later segment of its connection acknowledging more (or as much, with data)", i)
			}
		}
	})
}
