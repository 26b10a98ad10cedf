package zones

import (
	"github.com/miekg/dns"
)

// lowerRdataNames lowercases the domain names in the RDATA of the types
// whose names NSD keeps in its table of names, lowercased (NS, CNAME,
// SOA, MX, SRV, SVCB's target, …), so that answers spell them as NSD's
// do. Names compare without case (RFC 4343); RRSIG signers, NSEC next
// names and names in types NSD stores literally keep their case.
func lowerRdataNames(rr dns.RR) {
	switch v := rr.(type) {
	case *dns.NS:
		v.Ns = lowerName(v.Ns)
	case *dns.MD:
		v.Md = lowerName(v.Md)
	case *dns.MF:
		v.Mf = lowerName(v.Mf)
	case *dns.CNAME:
		v.Target = lowerName(v.Target)
	case *dns.SOA:
		v.Ns, v.Mbox = lowerName(v.Ns), lowerName(v.Mbox)
	case *dns.MB:
		v.Mb = lowerName(v.Mb)
	case *dns.MG:
		v.Mg = lowerName(v.Mg)
	case *dns.MR:
		v.Mr = lowerName(v.Mr)
	case *dns.PTR:
		v.Ptr = lowerName(v.Ptr)
	case *dns.MINFO:
		v.Rmail, v.Email = lowerName(v.Rmail), lowerName(v.Email)
	case *dns.MX:
		v.Mx = lowerName(v.Mx)
	case *dns.RP:
		v.Mbox, v.Txt = lowerName(v.Mbox), lowerName(v.Txt)
	case *dns.AFSDB:
		v.Hostname = lowerName(v.Hostname)
	case *dns.RT:
		v.Host = lowerName(v.Host)
	case *dns.PX:
		v.Map822, v.Mapx400 = lowerName(v.Map822), lowerName(v.Mapx400)
	case *dns.NXT:
		v.NextDomain = lowerName(v.NextDomain)
	case *dns.SRV:
		v.Target = lowerName(v.Target)
	case *dns.NAPTR:
		v.Replacement = lowerName(v.Replacement)
	case *dns.KX:
		v.Exchanger = lowerName(v.Exchanger)
	case *dns.DNAME:
		v.Target = lowerName(v.Target)
	case *dns.SVCB:
		v.Target = lowerName(v.Target)
	case *dns.HTTPS:
		v.Target = lowerName(v.Target)
	case *dns.LP:
		v.Fqdn = lowerName(v.Fqdn)
	}
}

// lowerName lowercases the ASCII letters of a presentation name; escaped
// octets ("\065") go through the wire form.
func lowerName(name string) string {
	upper := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' {
			return lowerEscaped(name)
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return name
	}
	b := []byte(name)
	lowerASCII(b)
	return string(b)
}

func lowerEscaped(name string) string {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return name
	}
	lowerASCII(buf[:n])
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return name
	}
	return out
}
