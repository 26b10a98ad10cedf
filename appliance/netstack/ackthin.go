package netstack

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/seqnum"
)

// A download's client acknowledges each 64 KiB segment, and the packet
// link reads what has come since it last read in one batch: a 1 GB
// download brought 15,500 ACKs in 1,080 batches here, and all but one
// per batch were acknowledged again by a later ACK of the same batch.
// An HTTP client acknowledges a response at once, and its next request
// follows: two segments in, and often in one batch. The stack paid a
// few microseconds of processing for each. A pure ACK that a later
// segment of its connection in the batch supersedes is left out, as if
// it had been lost, which TCP's cumulative acknowledgement takes in its
// stride (FreeBSD's LRO compresses ACKs the same way): a later pure ACK
// that acknowledges more, or a later data segment that acknowledges as
// much (it carries the same news, and a newer window). Left in: all
// segments with data or with a flag beside ACK and PSH, ACKs with SACK
// blocks (the scoreboard's news), duplicate ACKs (the same number again:
// fast retransmit counts them) and window updates, and all that is not
// plain IPv4 or IPv6 TCP to the link's MAC. (A peer without SACK that
// sends data while it acknowledges a loss has a duplicate ACK followed
// by its data taken for one ACK: its sender resends at the timeout
// rather than at the third duplicate, a rare and slower recovery.)

// ackKey is a connection's addresses and ports as they stand in its
// frames: IPv4 in the first 12 bytes, IPv6 in all 36.
type ackKey [36]byte

// thinBatch is the most frames supersededACKs looks at.
const thinBatch = 32

// Kinds of segment, for thinning.
const (
	otherSegment   = iota
	pureACKSegment // may be left out, and supersede an earlier pure ACK
	dataSegment    // data with ACK (and PSH) only: may supersede one
)

// segmentKind tells what an Ethernet frame to mac is, for thinning, and
// gives its connection and acknowledgement.
func segmentKind(frame []byte, mac tcpip.LinkAddress) (ackKey, seqnum.Value, int) {
	var k ackKey
	if len(frame) < header.EthernetMinimumSize || header.Ethernet(frame).DestinationAddress() != mac {
		return k, 0, otherSegment
	}
	ip := frame[header.EthernetMinimumSize:]
	var tcp []byte
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case uint16(header.IPv4ProtocolNumber):
		if len(ip) < header.IPv4MinimumSize || ip[0]>>4 != 4 || ip[9] != uint8(header.TCPProtocolNumber) {
			return k, 0, otherSegment
		}
		ihl := int(ip[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		// A fragment is no whole segment.
		if ihl < header.IPv4MinimumSize || total < ihl || total > len(ip) || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return k, 0, otherSegment
		}
		copy(k[:8], ip[12:20])
		tcp = ip[ihl:total]
		copy(k[8:12], tcp[:min(4, len(tcp))])
	case uint16(header.IPv6ProtocolNumber):
		if len(ip) < header.IPv6MinimumSize || ip[0]>>4 != 6 || ip[6] != uint8(header.TCPProtocolNumber) {
			return k, 0, otherSegment
		}
		payload := int(binary.BigEndian.Uint16(ip[4:6]))
		if header.IPv6MinimumSize+payload > len(ip) {
			return k, 0, otherSegment
		}
		copy(k[:32], ip[8:40])
		tcp = ip[header.IPv6MinimumSize : header.IPv6MinimumSize+payload]
		copy(k[32:36], tcp[:min(4, len(tcp))])
	default:
		return k, 0, otherSegment
	}
	if len(tcp) < header.TCPMinimumSize {
		return k, 0, otherSegment
	}
	off := int(tcp[12]>>4) * 4
	flags := header.TCPFlags(tcp[13])
	// No flag but ACK, and PSH with data (nor NS or the reserved bits).
	if off < header.TCPMinimumSize || off > len(tcp) || tcp[12]&0x0f != 0 || flags&^header.TCPFlagPsh != header.TCPFlagAck {
		return k, 0, otherSegment
	}
	kind := dataSegment
	if off == len(tcp) {
		if flags != header.TCPFlagAck {
			return k, 0, otherSegment
		}
		kind = pureACKSegment
	}
	for opts := tcp[header.TCPMinimumSize:off]; len(opts) > 0; {
		switch opts[0] {
		case header.TCPOptionEOL:
			opts = nil
		case header.TCPOptionNOP:
			opts = opts[1:]
		case header.TCPOptionSACK:
			return k, 0, otherSegment
		default:
			if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
				return k, 0, otherSegment // malformed: the stack judges it
			}
			opts = opts[opts[1]:]
		}
	}
	return k, seqnum.Value(binary.BigEndian.Uint32(tcp[8:12])), kind
}

// supersededACKs returns a bit for each frame of a batch (oldest first,
// the first thinBatch) that is a pure ACK to mac which a later segment
// of its connection in the batch supersedes: a pure ACK acknowledging
// more, or a data segment acknowledging as much.
func supersededACKs(frames [][]byte, mac tcpip.LinkAddress) uint32 {
	// What the later segments of each connection acknowledge, going
	// back from the newest frame: a batch holds a connection or a few.
	type later struct {
		key              ackKey
		pure, data       seqnum.Value // the most a later pure ACK, data segment acknowledges
		hasPure, hasData bool
	}
	var seen [thinBatch]later
	n := 0
	var skip uint32
	for i := min(len(frames), thinBatch) - 1; i >= 0; i-- {
		k, ack, kind := segmentKind(frames[i], mac)
		if kind == otherSegment {
			continue
		}
		j := 0
		for j < n && seen[j].key != k {
			j++
		}
		if j == n {
			seen[n].key = k
			n++
		}
		l := &seen[j]
		if kind == pureACKSegment && (l.hasPure && ack.LessThan(l.pure) || l.hasData && ack.LessThanEq(l.data)) {
			skip |= 1 << i
			continue
		}
		switch {
		case kind == dataSegment && (!l.hasData || l.data.LessThan(ack)):
			l.data, l.hasData = ack, true
		case kind == pureACKSegment && (!l.hasPure || l.pure.LessThan(ack)):
			l.pure, l.hasPure = ack, true
		}
	}
	return skip
}
