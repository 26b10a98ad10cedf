package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"islet.dev/islet/zones"
)

const dnssecUsage = `usage: islet dnssec <command> KEYDIR [ZONE]

commands:
  ds KEYDIR [ZONE]   print the DS records (SHA-256) of the zones' key-signing
                     keys in KEYDIR, to give to the registrar (every zone
                     with keys there when ZONE is left out)
  rollover [flags] KEYDIR ZONE
                     start a rollover of ZONE's key by double signature
                     (RFC 7583): a new key signs beside the old at once, CDS
                     names it once caches have it, the old key goes once the
                     parent's DS naming it has expired; the running islet
                     takes each step (SIGHUP it to begin at once)
  sign [flags] KEYDIR ZONEDIR
                     sign the zones of ZONEDIR as "islet serve --dnssec-keys"
                     does and print them (to check them with ldns-verify-zone
                     or dnssec-verify, or to serve them elsewhere)
`

func cmdDNSSEC(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, dnssecUsage)
		return 2
	}
	switch args[0] {
	case "ds":
		return cmdDNSSECDS(args[1:], stdout, stderr)
	case "sign":
		return cmdDNSSECSign(args[1:], stdout, stderr)
	case "rollover":
		return cmdDNSSECRollover(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, dnssecUsage)
		return 0
	}
	fmt.Fprintf(stderr, "islet dnssec: unknown command %q\n\n%s", args[0], dnssecUsage)
	return 2
}

// cmdDNSSECDS prints the DS records of the published key-signing keys.
func cmdDNSSECDS(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet dnssec ds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fmt.Fprint(stderr, dnssecUsage)
		return 2
	}
	dir := fs.Arg(0)
	names := []string{fs.Arg(1)}
	if fs.NArg() == 1 {
		var err error
		if names, err = zones.KeyZones(dir); err != nil {
			fmt.Fprintf(stderr, "islet dnssec ds: %v\n", err)
			return 1
		}
		if len(names) == 0 {
			fmt.Fprintf(stderr, "islet dnssec ds: %s holds no keys\n", dir)
			return 1
		}
	}
	for _, name := range names {
		keys, err := zones.ReadZoneKeys(dir, name)
		if err != nil {
			fmt.Fprintf(stderr, "islet dnssec ds: %v\n", err)
			return 1
		}
		n := 0
		now := time.Now()
		for _, k := range keys {
			switch {
			case k.Synced(now):
				fmt.Fprintln(stdout, k.DS().String())
				n++
			case k.SEP() && k.SyncPublish.After(now):
				fmt.Fprintf(stdout, "; key %d of %s is new: its DS goes to the parent from %s (CDS names it then)\n", k.Tag(), name, k.SyncPublish.UTC().Format(time.RFC3339))
			}
		}
		if n == 0 {
			fmt.Fprintf(stderr, "islet dnssec ds: %s has no key-signing key in %s\n", name, dir)
			return 1
		}
	}
	return 0
}

// cmdDNSSECSign signs a zones folder and prints the signed zones.
func cmdDNSSECSign(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet dnssec sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	fs.StringVar(&f.dnssecAlgorithm, "algorithm", "ecdsap256sha256", "`ALG` of the keys made: ecdsap256sha256 or ed25519")
	fs.StringVar(&f.dnssecDenial, "denial", "nsec", "nsec, nsec3 (no salt, no iterations: RFC 9276) or compact (the NSEC of each name only: the rest is signed per query)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprint(stderr, dnssecUsage)
		return 2
	}
	f.dnssecKeys = fs.Arg(0)
	signer, err := f.signer()
	if err != nil {
		fmt.Fprintf(stderr, "islet dnssec sign: %v\n", err)
		return 2
	}
	set, diags, err := zones.LoadDir(fs.Arg(1))
	for _, d := range diags {
		fmt.Fprintln(stderr, d)
	}
	if err != nil {
		fmt.Fprintf(stderr, "islet dnssec sign: %v\n", err)
		return 1
	}
	for _, z := range set.Zones() {
		if !signer.Signs(z) {
			fmt.Fprintf(stderr, "islet dnssec sign: %s has a DNSKEY of its own: left out\n", z.Origin)
			continue
		}
		sz, _, err := signer.Sign(z, nil)
		if err != nil {
			fmt.Fprintf(stderr, "islet dnssec sign: %v\n", err)
			return 1
		}
		if err := zones.WriteZone(stdout, sz); err != nil {
			fmt.Fprintf(stderr, "islet dnssec sign: %v\n", err)
			return 1
		}
	}
	return 0
}

// cmdDNSSECRollover starts a key rollover and prints its schedule.
func cmdDNSSECRollover(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet dnssec rollover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var t zones.RolloverTiming
	fs.DurationVar(&t.ZoneTTL, "zone-ttl", 24*time.Hour, "the largest TTL of the zone, its DNSKEY's included")
	fs.DurationVar(&t.ParentTTL, "parent-ttl", 48*time.Hour, "the parent's delay in taking up a CDS plus its DS TTL")
	fs.DurationVar(&t.Propagation, "propagation", time.Hour, "how long a change takes to reach every server of the zone")
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprint(stderr, dnssecUsage)
		return 2
	}
	r, err := zones.StartRollover(fs.Arg(0), fs.Arg(1), time.Now(), t)
	if err != nil {
		fmt.Fprintf(stderr, "islet dnssec rollover: %v\n", err)
		return 1
	}
	when := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	for i, k := range r.New {
		fmt.Fprintf(stdout, "new key %d (%s) is published and signs beside key %d from now\n", k.Tag(), k.File, r.Old[i].Tag())
		fmt.Fprintf(stdout, "CDS and CDNSKEY name key %d instead of %d from %s: its DS then goes to the parent:\n%s\n", k.Tag(), r.Old[i].Tag(), when(r.SyncAt), k.DS())
		fmt.Fprintf(stdout, "key %d and its signatures go at %s\n", r.Old[i].Tag(), when(r.RetireAt))
	}
	fmt.Fprintln(stdout, "a running islet signing from this folder takes each step at its time; send it SIGHUP to begin now (otherwise within the hour)")
	return 0
}
