package zones

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/miekg/dns"
)

// tsigFudge is the fudge of the TSIG records islet writes, in seconds.
const tsigFudge = 300

// wireSigner signs the messages of a transfer already packed (RFC 8945
// §5.3.1): the first with the request's MAC and every TSIG variable, the
// others chained to the MAC before them with the timers only. Working on
// the bytes, it spares a transfer from packing the zone again.
type wireSigner struct {
	c    tsigCheck
	name []byte // the key's name, canonical wire form
	alg  []byte // the algorithm's name, canonical wire form
	mac  []byte // the MAC to chain the next message to
	h    hash.Hash
	now  int64
}

// newWireSigner prepares the signing of a transfer answering the request
// c checked (a valid signature by a known key).
func newWireSigner(c tsigCheck, now int64) (*wireSigner, error) {
	secret, err := base64.StdEncoding.DecodeString(c.key.Secret)
	if err != nil {
		return nil, fmt.Errorf("TSIG key %s: %w", c.key.Name, err)
	}
	var newHash func() hash.Hash
	switch strings.ToLower(dns.Fqdn(c.key.Algorithm)) {
	case dns.HmacSHA1:
		newHash = sha1.New
	case dns.HmacSHA224:
		newHash = sha256.New224
	case dns.HmacSHA256:
		newHash = sha256.New
	case dns.HmacSHA384:
		newHash = sha512.New384
	case dns.HmacSHA512:
		newHash = sha512.New
	default:
		return nil, fmt.Errorf("TSIG algorithm %s", c.key.Algorithm)
	}
	reqMAC, err := hex.DecodeString(c.req.MAC)
	if err != nil {
		return nil, fmt.Errorf("request MAC: %w", err)
	}
	name, err := wireName(strings.ToLower(dns.Fqdn(c.req.Hdr.Name)))
	if err != nil {
		return nil, err
	}
	alg, err := wireName(strings.ToLower(dns.Fqdn(c.key.Algorithm)))
	if err != nil {
		return nil, err
	}
	return &wireSigner{c: c, name: []byte(name), alg: []byte(alg), mac: reqMAC, h: hmac.New(newHash, secret), now: now}, nil
}

// sign computes the MAC of one message, given in parts whose header (12
// octets, ARCOUNT not counting the TSIG record) comes first, and returns
// the TSIG record to append, ID id. first says whether it is the first
// message of the transfer.
func (s *wireSigner) sign(parts [][]byte, id uint16, first bool) []byte {
	h := s.h
	h.Reset()
	var u16 [2]byte
	binary.BigEndian.PutUint16(u16[:], uint16(len(s.mac)))
	h.Write(u16[:])
	h.Write(s.mac)
	for _, p := range parts {
		h.Write(p)
	}
	var timers [8]byte // time signed (48 bits) and fudge
	binary.BigEndian.PutUint16(timers[0:], uint16(s.now>>32))
	binary.BigEndian.PutUint32(timers[2:], uint32(s.now))
	binary.BigEndian.PutUint16(timers[6:], tsigFudge)
	if first {
		h.Write(s.name)
		h.Write([]byte{0, 255, 0, 0, 0, 0}) // class ANY, TTL 0
		h.Write(s.alg)
		h.Write(timers[:])
		h.Write([]byte{0, 0, 0, 0}) // error, other length
	} else {
		h.Write(timers[:])
	}
	s.mac = h.Sum(s.mac[:0])
	rdata := make([]byte, 0, len(s.alg)+16+len(s.mac))
	rdata = append(rdata, s.alg...)
	rdata = append(rdata, timers[:]...)
	rdata = binary.BigEndian.AppendUint16(rdata, uint16(len(s.mac)))
	rdata = append(rdata, s.mac...)
	rdata = binary.BigEndian.AppendUint16(rdata, id)
	rdata = append(rdata, 0, 0, 0, 0) // error, other length
	rr := make([]byte, 0, len(s.name)+10+len(rdata))
	rr = append(rr, s.name...)
	rr = binary.BigEndian.AppendUint16(rr, dns.TypeTSIG)
	rr = binary.BigEndian.AppendUint16(rr, dns.ClassANY)
	rr = append(rr, 0, 0, 0, 0) // TTL
	rr = binary.BigEndian.AppendUint16(rr, uint16(len(rdata)))
	return append(rr, rdata...)
}
