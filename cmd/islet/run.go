package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"islet.dev/islet/appliance"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	f.register(fs)
	var q qemuFlags
	q.register(fs)
	target := fs.String("target", "host", "where to run: host (an ordinary process on the host's sockets) or qemu (the built image, booted)")
	watch := fs.Bool("watch", true, "render the site again, reload the zones and apply islet.yml's hosts as the folder is edited (host target)")
	poll := fs.Duration("watch-poll", 0, "poll the folder this often instead of using inotify (network file systems)")
	livereload := fs.Bool("livereload", true, "reload pages in the browser when the site changes, and show render errors there (host target)")
	drafts := fs.Bool("drafts", false, "render posts in _drafts")
	future := fs.Bool("future", false, "publish posts dated after site.time")
	unpublished := fs.Bool("unpublished", false, "render documents marked published: false")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet run [flags] DIR\n\nServes the appliance in DIR (islet.yml, zones/, site/) and prints how to reach it.\nCertificates are self-signed unless --acme-directory is given.")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	switch *target {
	case "host":
	case "qemu":
		return runQemu(fs, &f, &q, fs.Arg(0), stdout, stderr)
	default:
		fmt.Fprintf(stderr, "islet run: --target %s: want host or qemu\n", *target)
		return 2
	}
	cfg, err := appliance.LoadConfig(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "islet run: %v\n", err)
		return 1
	}
	opt, err := f.options(cfg.ZonesDir(), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "islet run: %v\n", err)
		return 2
	}
	opt.DNS.Minimal = opt.DNS.Minimal || cfg.DNS.Minimal
	acl, notify, err := cfg.Transfers()
	if err != nil {
		fmt.Fprintf(stderr, "islet run: %v\n", err)
		return 1
	}
	opt.DNS.AllowTransfer = append(opt.DNS.AllowTransfer, acl...)
	opt.DNS.Notify = append(opt.DNS.Notify, notify...)
	secondaries, err := cfg.Secondaries()
	if err != nil {
		fmt.Fprintf(stderr, "islet run: %v\n", err)
		return 1
	}
	opt.Secondaries = append(opt.Secondaries, secondaries...)
	if opt.Catalog == "" {
		opt.Catalog = cfg.DNS.Catalog
	}
	if opt.DNS.Signer == nil && cfg.DNSSEC.Enabled() {
		// On a development host the keys are the image's when baked in,
		// else kept beside the build.
		keys := cfg.KeysDir()
		if keys == "" {
			keys = filepath.Join(fs.Arg(0), "_build", "dnssec-keys")
		}
		if opt.DNS.Signer, err = cfg.DNSSEC.NewSigner(keys); err != nil {
			fmt.Fprintf(stderr, "islet run: %v\n", err)
			return 1
		}
	}
	// On a development host the names do not point here: certificates
	// are self-signed unless an ACME directory is asked for.
	if !flagSet(fs, "acme-directory") && !f.acmeStaging {
		opt.HTTPS.ACMEDirectory = "off"
	}
	if len(opt.HTTPS.Hosts) == 0 {
		opt.HTTPS.Hosts = cfg.TLSHosts()
	}
	if opt.HTTPS.ACMEEmail == "" {
		opt.HTTPS.ACMEEmail = cfg.ACME.Email
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dev := appliance.DevOptions{Dir: fs.Arg(0), Watch: *watch, Poll: *poll, LiveReload: *livereload && *watch,
		Drafts: *drafts, Future: *future, Unpublished: *unpublished, Stderr: stderr}
	return serveUntilSignalWith(ctx, opt, stdout, stderr, func(ctx context.Context, opt appliance.Options) error {
		return appliance.Develop(ctx, opt, dev)
	})
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseInterspersed lets flags follow the positional DIR, as in
// "islet run examples/homepage --dns 127.0.0.1:53".
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(pos)
}
