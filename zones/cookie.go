package zones

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// serverCookie appends to out the COOKIE option data for a query (RFC
// 7873 §5.2, server cookie format of RFC 9018 §4: version 1, three
// reserved octets, a timestamp and SipHash-2-4 over the client cookie,
// those fields and the client address). Servers sharing the secret
// issue cookies that each other accept.
func serverCookie(out []byte, secret [16]byte, client []byte, addr netip.Addr, now time.Time) []byte {
	out = append(out, client[:8]...)
	start := len(out)
	out = append(out, 1, 0, 0, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(now.Unix()))
	var in [8 + 8 + 16]byte
	n := copy(in[:], client[:8])
	n += copy(in[n:], out[start:start+8])
	a := addr.Unmap()
	if a.Is4() {
		b := a.As4()
		n += copy(in[n:], b[:])
	} else {
		b := a.As16()
		n += copy(in[n:], b[:])
	}
	h := sipHash24(binary.LittleEndian.Uint64(secret[:8]), binary.LittleEndian.Uint64(secret[8:]), in[:n])
	return binary.BigEndian.AppendUint64(out, h)
}
