package main

import (
	"fmt"
	"io"
	"net"
	"strings"

	"islet.dev/islet/appliance"
)

// printReady tells the user exactly how to reach the running appliance.
func printReady(w io.Writer, r appliance.Ready) {
	if len(r.DNS) > 0 {
		var addrs []string
		for _, a := range r.DNS {
			addrs = append(addrs, a.String())
		}
		fmt.Fprintf(w, "islet is serving DNS on %s (UDP and TCP), %d zone(s):\n", strings.Join(addrs, ", "), len(r.Zones))
		host, port, _ := net.SplitHostPort(r.DNS[0].String())
		for _, z := range r.Zones {
			fmt.Fprintf(w, "  dig @%s -p %s %s SOA\n", host, port, z.Origin)
		}
	}
	if r.HTTPS != nil {
		host, port, _ := net.SplitHostPort(r.HTTPS.String())
		name := "localhost"
		if len(r.Names) > 0 {
			name = r.Names[0]
		}
		fmt.Fprintf(w, "islet is serving HTTPS on %s for %s:\n", r.HTTPS, strings.Join(r.Names, ", "))
		fmt.Fprintf(w, "  curl -k --resolve %s:%s:%s https://%s:%s/\n", name, port, host, name, port)
		if r.HTTP != nil {
			h, p, _ := net.SplitHostPort(r.HTTP.String())
			fmt.Fprintf(w, "  curl -I --resolve %s:%s:%s http://%s:%s/   (redirects to HTTPS)\n", name, p, h, name, p)
		}
	}
	if r.Metrics != nil {
		fmt.Fprintf(w, "islet is serving metrics on %s:\n  islet status %s\n  curl http://%s/metrics\n", r.Metrics, r.Metrics, r.Metrics)
	}
	fmt.Fprintln(w, "Ctrl-C stops it; SIGHUP reloads the zones.")
}
