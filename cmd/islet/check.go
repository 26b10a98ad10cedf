package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"islet.dev/islet/appliance"
	"islet.dev/islet/zones"
)

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet check DIR\n\nValidates the zone files of DIR (an appliance folder, or a zones folder) and\nprints file:line: problems; exits 1 if any is an error.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	dir := appliance.ZonesDirOf(fs.Arg(0))
	set, diags, err := zones.LoadDir(dir)
	for _, d := range diags {
		fmt.Fprintln(stderr, d)
	}
	var le *zones.LoadError
	if err != nil {
		if !errors.As(err, &le) {
			fmt.Fprintf(stderr, "islet check: %v\n", err)
		}
		fmt.Fprintf(stderr, "islet check: %s: %d errors\n", dir, len(diags.Errors()))
		return 1
	}
	for _, z := range set.Zones() {
		fmt.Fprintf(stdout, "%s: zone %s serial %d: %d records OK\n", z.File, z.Origin, z.Serial(), z.Records())
	}
	return 0
}
