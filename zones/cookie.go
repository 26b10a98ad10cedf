package zones

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Server cookies (RFC 7873 §5.2) in the interoperable format of RFC 9018
// §4: version 1, three reserved octets, a timestamp and SipHash-2-4 over
// the client cookie, those eight octets and the client's address. Servers
// sharing the secret issue cookies that each other accept.

// Cookie lifetime (RFC 9018 §4.3): a server cookie is accepted for an
// hour after it was issued and five minutes before (clock skew between
// servers sharing a secret).
const (
	cookieMaxAge = 3600
	cookieSkew   = 300
)

// serverCookie appends to out the COOKIE option data for a query: the
// client cookie, then a fresh server cookie made at now for addr.
func serverCookie(out []byte, secret [16]byte, client []byte, addr netip.Addr, now time.Time) []byte {
	out = append(out, client[:8]...)
	start := len(out)
	out = append(out, 1, 0, 0, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(now.Unix()))
	// SipHash's output is its 64-bit result in little-endian order.
	return binary.LittleEndian.AppendUint64(out, cookieHash(secret, client[:8], out[start:start+8], addr))
}

// validServerCookie reports whether cookie (the COOKIE option's data: a
// client cookie and a server cookie) carries a server cookie this secret
// issued to addr, less than an hour ago. The reserved octets are hashed
// as the client sent them.
func validServerCookie(secret [16]byte, cookie []byte, addr netip.Addr, now time.Time) bool {
	if len(cookie) != 24 || cookie[8] != 1 || !addr.IsValid() {
		return false
	}
	stamp := binary.BigEndian.Uint32(cookie[12:])
	age := int32(uint32(now.Unix()) - stamp) // serial arithmetic: the stamp wraps in 2106
	if age > cookieMaxAge || age < -cookieSkew {
		return false
	}
	return binary.LittleEndian.Uint64(cookie[16:]) == cookieHash(secret, cookie[:8], cookie[8:16], addr)
}

// cookieHash is SipHash-2-4 keyed by secret over the client cookie, the
// server cookie's version, reserved octets and timestamp (header), and
// the client address (4 or 16 octets).
func cookieHash(secret [16]byte, client, header []byte, addr netip.Addr) uint64 {
	var in [8 + 8 + 16]byte
	n := copy(in[:], client)
	n += copy(in[n:], header)
	a := addr.Unmap()
	if a.Is4() {
		b := a.As4()
		n += copy(in[n:], b[:])
	} else {
		b := a.As16()
		n += copy(in[n:], b[:])
	}
	return sipHash24(binary.LittleEndian.Uint64(secret[:8]), binary.LittleEndian.Uint64(secret[8:]), in[:n])
}
