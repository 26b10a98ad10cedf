package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"islet.dev/islet/appliance"
)

// cmdStatus prints what a running appliance's metrics say of it.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet status ADDR\n\nprints the zones and serials, certificates and counters of the appliance serving --metrics ADDR")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	st, err := appliance.FetchStatus(ctx, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "islet: %v\n", err)
		return 1
	}
	st.Write(stdout, time.Now())
	return 0
}
