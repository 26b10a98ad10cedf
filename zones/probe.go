package zones

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// SOASerial asks server (host:port) over TCP for zone's SOA and returns
// its serial: how a deployment's health is checked. The connection is
// dial's (through an SSH tunnel, say), or a direct one when dial is nil.
func SOASerial(ctx context.Context, dial func(ctx context.Context, network, address string) (net.Conn, error), server, zone string) (uint32, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	c, err := dial(ctx, "tcp", server)
	if err != nil {
		return 0, fmt.Errorf("zones: SOA of %s at %s: %w", zone, server, err)
	}
	defer c.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	c.SetDeadline(deadline)
	co := &dns.Conn{Conn: c}
	if err := co.WriteMsg(new(dns.Msg).SetQuestion(dns.Fqdn(zone), dns.TypeSOA)); err != nil {
		return 0, fmt.Errorf("zones: SOA of %s at %s: %w", zone, server, err)
	}
	r, err := co.ReadMsg()
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
