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
// The stack paid a few microseconds of processing for each. A pure ACK
// that a later one in the batch supersedes is left out, as if it had
// been lost, which TCP's cumulative acknowledgement takes in its stride
// (FreeBSD's LRO compresses ACKs the same way). Left in: anything with
// data or a flag beside ACK, ACKs with SACK blocks (the scoreboard's
// news), duplicate ACKs (the same number again: fast retransmit counts
// them) and window updates, ACKs that a later one does not acknowledge
// more than, and all that is not plain IPv4 or IPv6 TCP.

// ackKey is a connection's addresses and ports as they stand in its
// frames: IPv4 in the first 12 bytes, IPv6 in all 36.
type ackKey [36]byte

// thinBatch is the most frames supersededACKs looks at.
const thinBatch = 32

// pureACK tells whether an Ethernet frame to mac is a pure ACK that a
// later one may supersede, and gives its connection and
// acknowledgement.
func pureACK(frame []byte, mac tcpip.LinkAddress) (ackKey, seqnum.Value, bool) {
	var k ackKey
	if len(frame) < header.EthernetMinimumSize || header.Ethernet(frame).DestinationAddress() != mac {
		return k, 0, false
	}
	ip := frame[header.EthernetMinimumSize:]
	var tcp []byte
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case uint16(header.IPv4ProtocolNumber):
		if len(ip) < header.IPv4MinimumSize || ip[0]>>4 != 4 || ip[9] != uint8(header.TCPProtocolNumber) {
			return k, 0, false
		}
		ihl := int(ip[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		// A fragment is no whole segment.
		if ihl < header.IPv4MinimumSize || total < ihl || total > len(ip) || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
			return k, 0, false
		}
		copy(k[:8], ip[12:20])
		tcp = ip[ihl:total]
		copy(k[8:12], tcp[:min(4, len(tcp))])
	case uint16(header.IPv6ProtocolNumber):
		if len(ip) < header.IPv6MinimumSize || ip[0]>>4 != 6 || ip[6] != uint8(header.TCPProtocolNumber) {
			return k, 0, false
		}
		payload := int(binary.BigEndian.Uint16(ip[4:6]))
		if header.IPv6MinimumSize+payload > len(ip) {
			return k, 0, false
		}
		copy(k[:32], ip[8:40])
		tcp = ip[header.IPv6MinimumSize : header.IPv6MinimumSize+payload]
		copy(k[32:36], tcp[:min(4, len(tcp))])
	default:
		return k, 0, false
	}
	if len(tcp) < header.TCPMinimumSize {
		return k, 0, false
	}
	off := int(tcp[12]>>4) * 4
	// No data, no flag but ACK (nor NS or the reserved bits).
	if off < header.TCPMinimumSize || off != len(tcp) || tcp[12]&0x0f != 0 || header.TCPFlags(tcp[13]) != header.TCPFlagAck {
		return k, 0, false
	}
	for opts := tcp[header.TCPMinimumSize:off]; len(opts) > 0; {
		switch opts[0] {
		case header.TCPOptionEOL:
			opts = nil
		case header.TCPOptionNOP:
			opts = opts[1:]
		case header.TCPOptionSACK:
			return k, 0, false
		default:
			if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
				return k, 0, false // malformed: the stack judges it
			}
			opts = opts[opts[1]:]
		}
	}
	return k, seqnum.Value(binary.BigEndian.Uint32(tcp[8:12])), true
}

// supersededACKs returns a bit for each frame of a batch (oldest first,
// the first thinBatch) that is a pure ACK to mac a later pure ACK of
// its connection in the batch acknowledges more than.
func supersededACKs(frames [][]byte, mac tcpip.LinkAddress) uint32 {
	// The latest pure ACK of each connection seen so far, going back
	// from the newest frame: a batch holds a connection or two.
	type latest struct {
		key ackKey
		ack seqnum.Value
	}
	var seen [thinBatch]latest
	n := 0
	var skip uint32
	for i := min(len(frames), thinBatch) - 1; i >= 0; i-- {
		k, ack, ok := pureACK(frames[i], mac)
		if !ok {
			continue
		}
		j := 0
		for j < n && seen[j].key != k {
			j++
		}
		switch {
		case j == n:
			seen[n] = latest{k, ack}
			n++
		case ack.LessThan(seen[j].ack):
			skip |= 1 << i
		}
	}
	return skip
}
