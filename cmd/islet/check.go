package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"islet.dev/islet/appliance"
	"islet.dev/islet/zones"
)

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet check DIR\n\nValidates islet.yml and the zone files of DIR (an appliance folder, or a zones\nfolder) and prints file:line: problems; exits 1 if any is an error.")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	configErrors := 0
	if _, err := os.Stat(filepath.Join(fs.Arg(0), appliance.ConfigFile)); err == nil {
		cfg, err := appliance.LoadConfig(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		for _, e := range cfg.Check() {
			fmt.Fprintln(stderr, e)
			configErrors++
		}
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
		signed := ""
		if d := z.Denial(); d != "" {
			signed = ", signed with " + d
		}
		fmt.Fprintf(stdout, "%s: zone %s serial %d: %d records%s OK\n", z.File, z.Origin, z.Serial(), z.Records(), signed)
	}
	if configErrors > 0 {
		return 1
	}
	return 0
}
