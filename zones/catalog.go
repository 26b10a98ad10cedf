package zones

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Catalog makes the catalog zone (RFC 9432, schema version 2) named
// name that lists members, so that a secondary configured with the
// catalog alone (Knot, BIND) serves every zone listed, and picks up
// zones added later. Its serial is 1: the journal gives it a later one
// whenever the list changes ([Journal.Record]). A member's label under
// zones. is a hash of its name, so that it stays the same from one list
// to the next.
func Catalog(name string, members []*Zone) (*Zone, error) {
	name = strings.ToLower(dns.Fqdn(name))
	text := []string{
		name + " 0 IN SOA invalid. invalid. 1 3600 600 2147483646 0",
		name + " 0 IN NS invalid.",
		"version." + name + " 0 IN TXT \"2\"",
	}
	for _, z := range members {
		if z.Origin == name {
			continue
		}
		sum := sha256.Sum256([]byte(z.Origin))
		text = append(text, fmt.Sprintf("%s.zones.%s 0 IN PTR %s", hex.EncodeToString(sum[:8]), name, z.Origin))
	}
	rrs := make([]dns.RR, 0, len(text))
	for _, t := range text {
		rr, err := dns.NewRR(t)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		rrs = append(rrs, rr)
	}
	z, _, err := Build(name, "catalog "+name, rrs)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", name, err)
	}
	return z, nil
}
