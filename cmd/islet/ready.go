package main

import (
	"fmt"
	"io"
	"net"

	"islet.dev/islet/appliance"
)

// printReady tells the user exactly how to reach the running appliance.
func printReady(w io.Writer, r appliance.Ready) {
	host, port, _ := net.SplitHostPort(r.DNS.String())
	fmt.Fprintf(w, "islet is serving DNS on %s (UDP and TCP) for %d zones:\n", r.DNS, len(r.Zones))
	for _, z := range r.Zones {
		fmt.Fprintf(w, "  dig @%s -p %s %s SOA\n", host, port, z.Origin)
	}
	fmt.Fprintln(w, "Ctrl-C stops it; SIGHUP reloads the zones.")
}
