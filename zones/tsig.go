package zones

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TSIGKey is a shared secret that signs requests and responses
// (RFC 8945).
type TSIGKey struct {
	Name      string // fully qualified, lowercase
	Algorithm string // dns.HmacSHA256 and the like
	Secret    string // base64, as in dig -y and BIND's key files
}

// tsigAlgorithms are the HMACs accepted, by the names dig -y takes.
var tsigAlgorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// ParseTSIGKey reads a key in dig -y's form, [ALG:]NAME:SECRET, ALG
// hmac-sha256 when left out.
func ParseTSIGKey(s string) (TSIGKey, error) {
	parts := strings.Split(s, ":")
	alg := "hmac-sha256"
	switch len(parts) {
	case 2:
	case 3:
		alg, parts = strings.ToLower(parts[0]), parts[1:]
	default:
		return TSIGKey{}, errors.New("want [ALG:]NAME:SECRET")
	}
	algorithm, ok := tsigAlgorithms[alg]
	if !ok {
		return TSIGKey{}, fmt.Errorf("algorithm %q: want hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1", alg)
	}
	name, secret := parts[0], parts[1]
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return TSIGKey{}, fmt.Errorf("key name %q is not a domain name", name)
	}
	if b, err := base64.StdEncoding.DecodeString(secret); err != nil || len(b) == 0 {
		return TSIGKey{}, fmt.Errorf("key %s: the secret is not base64", name)
	}
	return TSIGKey{Name: strings.ToLower(dns.Fqdn(name)), Algorithm: algorithm, Secret: secret}, nil
}

// tsigCheck is what the verification of a request's TSIG found.
type tsigCheck struct {
	key   *TSIGKey  // the key it names, when known
	req   *dns.TSIG // the request's TSIG record
	error uint16    // 0, or dns.RcodeBadKey, RcodeBadSig, RcodeBadTime
}

// verifyTSIG checks the TSIG record of the request pkt (m unpacked).
func (s *Server) verifyTSIG(pkt []byte, m *dns.Msg) tsigCheck {
	t := m.IsTsig()
	c := tsigCheck{req: t}
	key, ok := s.keys[strings.ToLower(t.Hdr.Name)]
	if !ok || !strings.EqualFold(key.Algorithm, t.Algorithm) {
		c.error = dns.RcodeBadKey
		return c
	}
	c.key = key
	switch err := dns.TsigVerify(append([]byte(nil), pkt...), key.Secret, "", false); {
	case err == nil:
	case errors.Is(err, dns.ErrTime):
		c.error = dns.RcodeBadTime
	default:
		c.error = dns.RcodeBadSig
	}
	return c
}

// sign appends a TSIG record to r answering the request c checked and
// packs it; mac is the MAC to chain the next message of a transfer to
// (with timersOnly), "" for the first. A request with a bad key or
// signature gets its answer unsigned, with the error in the TSIG record
// (RFC 8945 §5.3.2).
func (c tsigCheck) sign(r *dns.Msg, mac string, timersOnly bool) ([]byte, string, error) {
	now := time.Now().Unix()
	r.SetTsig(c.req.Hdr.Name, dns.Fqdn(c.req.Algorithm), 300, now) // an empty algorithm would pack as nothing
	t := r.Extra[len(r.Extra)-1].(*dns.TSIG)
	t.Error = c.error
	if c.error == dns.RcodeBadTime {
		// the server's time, for the client to see the skew
		t.OtherLen = 6
		t.OtherData = fmt.Sprintf("%012x", now)
	}
	secret := ""
	if c.key != nil {
		secret = c.key.Secret
	}
	if mac == "" {
		mac = c.req.MAC
	}
	return dns.TsigGenerate(r, secret, mac, timersOnly)
}

// signedQuery answers a TSIG-signed request that is not a transfer
// over TCP: the signature is checked, the request answered as it would
// be unsigned, and the answer signed (RFC 8945 §5.3). A signed answer
// too large for UDP is sent truncated, header and question only.
func (s *Server) signedQuery(pkt, out []byte, sc *scratch, client netip.Addr, tcp bool) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(pkt); err != nil || m.IsTsig() == nil {
		return s.header(out, &sc.q, dns.RcodeFormatError)
	}
	c := s.verifyTSIG(pkt, m)
	var r *dns.Msg
	switch {
	case c.error != 0:
		s.log.Debug("TSIG check failed", "client", client, "key", c.req.Hdr.Name, "error", dns.RcodeToString[int(c.error)])
		r = new(dns.Msg).SetRcode(m, dns.RcodeNotAuth)
	case len(m.Question) == 1 && (m.Question[0].Qtype == dns.TypeIXFR || m.Question[0].Qtype == dns.TypeAXFR):
		r = s.transferOverUDP(m, client, &c)
	default:
		m.Extra = m.Extra[:len(m.Extra)-1]
		stripped, err := m.Pack()
		if err != nil {
			return s.header(out, &sc.q, dns.RcodeFormatError)
		}
		resp := s.handle(stripped, out, sc, client, tcp)
		if resp == nil {
			return nil
		}
		r = new(dns.Msg)
		if err := r.Unpack(resp); err != nil {
			return s.header(out, &sc.q, dns.RcodeServerFailure)
		}
	}
	wire, _, err := c.sign(r, "", false)
	if err != nil {
		return s.header(out, &sc.q, dns.RcodeServerFailure)
	}
	if !tcp && len(wire) > s.limit(&sc.q, tcp) {
		r.Truncated = true
		r.Answer, r.Ns = nil, nil
		r.Extra = slices.DeleteFunc(r.Extra, func(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypeOPT })
		if wire, _, err = c.sign(r, "", false); err != nil {
			return s.header(out, &sc.q, dns.RcodeServerFailure)
		}
	}
	return append(out[:0], wire...)
}

// ReadTSIGKeys reads keys from a file of lines in ParseTSIGKey's form;
// blank lines and lines starting with # are skipped. Errors name the
// file and line. The file must not be readable by others than its
// owner: it holds secrets.
func ReadTSIGKeys(file string) ([]TSIGKey, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: holds secrets but is readable by others (mode %v): chmod 600 it", file, st.Mode().Perm())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var keys []TSIGKey
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseTSIGKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
