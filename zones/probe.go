package zones

import (
	"context"
	"fmt"

	"github.com/miekg/dns"
)

// SOASerial asks server (host:port) over UDP for zone's SOA and returns
// its serial: how a deployment's health is checked.
func SOASerial(ctx context.Context, server, zone string) (uint32, error) {
	m := new(dns.Msg).SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
	c := new(dns.Client)
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err != nil {
		return 0, fmt.Errorf("zones: SOA of %s at %s: %w", zone, server, err)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("zones: SOA of %s at %s: %s, no SOA", zone, server, dns.RcodeToString[r.Rcode])
}
