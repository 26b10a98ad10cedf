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
	var addrs []string
	for _, a := range r.DNS {
		addrs = append(addrs, a.String())
	}
	fmt.Fprintf(w, "islet is serving DNS on %s (UDP and TCP), %d zone(s):\n", strings.Join(addrs, ", "), len(r.Zones))
	host, port, _ := net.SplitHostPort(r.DNS[0].String())
	for _, z := range r.Zones {
		fmt.Fprintf(w, "  dig @%s -p %s %s SOA\n", host, port, z.Origin)
	}
	fmt.Fprintln(w, "Ctrl-C stops it; SIGHUP reloads the zones.")
}
