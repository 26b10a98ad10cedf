package zones

import (
	"fmt"

	"github.com/miekg/dns"
)

// checkSVCB validates the parameters of an SVCB or HTTPS record as
// RFC 9460 §8 asks of zone files (and NSD, Knot and BIND refuse): the
// keys that carry a value have one, and the mandatory list does not name
// itself, names no key twice and names only keys the record holds.
func checkSVCB(rr dns.RR) error {
	var params []dns.SVCBKeyValue
	switch v := rr.(type) {
	case *dns.SVCB:
		params = v.Value
	case *dns.HTTPS:
		params = v.Value
	default:
		return nil
	}
	present := map[dns.SVCBKey]bool{}
	for _, p := range params {
		present[p.Key()] = true
	}
	for _, p := range params {
		empty := false
		switch v := p.(type) {
		case *dns.SVCBMandatory:
			empty = len(v.Code) == 0
			seen := map[dns.SVCBKey]bool{}
			for _, k := range v.Code {
				switch {
				case k == dns.SVCB_MANDATORY:
					return fmt.Errorf("mandatory may not list mandatory itself (RFC 9460 §8)")
				case seen[k]:
					return fmt.Errorf("mandatory lists %s twice (RFC 9460 §8)", k)
				case !present[k]:
					return fmt.Errorf("mandatory lists %s, which the record does not have (RFC 9460 §8)", k)
				}
				seen[k] = true
			}
		case *dns.SVCBAlpn:
			empty = len(v.Alpn) == 0
		case *dns.SVCBDoHPath:
			empty = v.Template == ""
		case *dns.SVCBECHConfig:
			empty = len(v.ECH) == 0
		case *dns.SVCBIPv4Hint:
			empty = len(v.Hint) == 0
		case *dns.SVCBIPv6Hint:
			empty = len(v.Hint) == 0
		}
		if empty {
			return fmt.Errorf("%s needs a value (RFC 9460 §8)", p.Key())
		}
	}
	return nil
}
