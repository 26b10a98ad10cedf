package zones

import (
	"slices"

	"github.com/miekg/dns"
)

// wireName returns the lowercase uncompressed wire form of a
// fully-qualified presentation name. Wire form is the map key of every
// node, so that the query path can look names up straight from packets.
func wireName(name string) (string, error) {
	w, err := appendWireName(make([]byte, 0, 256), name)
	return string(w), err
}

// appendWireName appends the lowercase wire form of name to buf.
func appendWireName(buf []byte, name string) ([]byte, error) {
	mark := len(buf)
	buf = slices.Grow(buf, 256)[:mark+256]
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, mark, nil, false)
	if err != nil {
		return buf[:mark], err
	}
	lowerASCII(buf[mark:n])
	return buf[:n], nil
}

// lowerASCII lowercases A-Z in place. Length octets are at most 63, below
// 'A', so a whole wire name can be lowered this way.
func lowerASCII(b []byte) []byte {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return b
}

// parentWire drops the first label of a wire name; the root has no parent.
func parentWire(w string) (string, bool) {
	if len(w) <= 1 {
		return "", false
	}
	return w[1+int(w[0]):], true
}

// labelCount counts the labels of a wire name, the root excluded.
func labelCount(w string) int {
	n := 0
	for i := 0; i < len(w) && w[i] != 0; i += 1 + int(w[i]) {
		n++
	}
	return n
}

// isSubdomainWire reports whether child equals parent or lies below it.
// Both must be lowercase wire names.
func isSubdomainWire(child, parent string) bool {
	for i := 0; i < len(child); i += 1 + int(child[i]) {
		if child[i:] == parent {
			return true
		}
		if child[i] == 0 {
			break
		}
	}
	return false
}
