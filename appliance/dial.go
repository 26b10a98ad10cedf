package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// dialFunc opens a connection to an IP literal address.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// resolvingDialer makes a dialer for names out of one for addresses:
// names are looked up (IPv4 first) at the DNS server resolver, through
// dial itself, so that outgoing traffic (ACME, OCSP) stays on the stack
// that dial belongs to.
func resolvingDialer(dial dialFunc, resolver netip.AddrPort) dialFunc {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dial(ctx, network, resolver.String())
	}}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		if _, err := netip.ParseAddr(host); err == nil {
			return dial(ctx, network, address)
		}
		if !resolver.IsValid() {
			return nil, fmt.Errorf("dial %s: no DNS resolver for the userspace stack (DHCP gave none; set --resolver)", address)
		}
		ips, err := r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", address, err)
		}
		var errs []error
		for _, want4 := range []bool{true, false} {
			for _, ip := range ips {
				if ip.Unmap().Is4() != want4 {
					continue
				}
				c, err := dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
				if err == nil {
					return c, nil
				}
				errs = append(errs, err)
			}
		}
		return nil, fmt.Errorf("dial %s: %w", address, errors.Join(errs...))
	}
}
