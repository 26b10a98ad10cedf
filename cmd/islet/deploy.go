//go:build !guest

package main

import (
	"context"
	ctls "crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"islet.dev/islet/appliance"
	"islet.dev/islet/images"
	"islet.dev/islet/zones"
)

// cmdDeploy builds the appliance and deploys it to libvirt, or rolls
// back, or tells what runs.
func cmdDeploy(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "libvirt connection `URI`: qemu:///system, qemu+ssh://user@host/system")
	name := fs.String("name", "", "the domain (default islet-DIR's base name)")
	timeout := fs.Duration("health-timeout", time.Minute, "how long the new image has to answer before the previous one is started again")
	rollback := fs.Bool("rollback", false, "start the image deployed before the running one")
	status := fs.Bool("status", false, "tell what runs: image, address, uptime, serials, certificates")
	var boot listFlag
	fs.Var(&boot, "boot", "boot `SETTING` (islet.NAME=VALUE) added to the deployed image's kernel command line; repeatable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet deploy DIR --to URI [--name NAME] [--health-timeout D] [--boot islet.NAME=VALUE]... [--rollback | --status]\n\nBuilds DIR, uploads the image to libvirt, replaces the running deployment\n(shut down with the power button, started again on the same state disk) and\nwaits until it serves the zones' serials and the site; if it does not in\ntime, the previous image is started again.")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *to == "" || *rollback && *status {
		fs.Usage()
		return 2
	}
	if err := images.CheckBoot(boot); err != nil {
		fmt.Fprintln(stderr, "islet", err)
		return 2
	}
	if len(boot) > 0 && (*rollback || *status) {
		fmt.Fprintln(stderr, "islet deploy: --boot sets the deployed image's boot settings: a rollback starts an image with the settings it ran with")
		return 2
	}
	dir := fs.Arg(0)
	if *name == "" {
		*name = "islet-" + applianceName(dir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opt := images.DeployOptions{URI: *to, Name: *name, HealthTimeout: *timeout, Progress: stdout, Boot: boot}
	var dep *images.Deployment
	var err error
	switch {
	case *status:
		told := false
		header := func(dep *images.Deployment) {
			fmt.Fprintf(stdout, "%s: %s, image %s (kept: %s)\n", dep.Name, dep.State, dep.Image, strings.Join(dep.Images, " "))
			told = true
		}
		opt.Report = func(ctx context.Context, dep *images.Deployment, dial images.Dial) {
			header(dep)
			report(ctx, stdout, stderr, dir, dep, dial)
		}
		if dep, err = images.Status(ctx, opt); err == nil {
			if !told {
				header(dep)
			}
			return 0
		}
	case *rollback:
		// the zones as they are now: to know the deployment answers
		if _, health, code := healthOnly(dir, stderr); code == 0 {
			opt.Alive = health.Alive
		}
		dep, err = images.Rollback(ctx, opt)
	default:
		res, health, code := buildWithHealth(ctx, dir, "", defaultStateDisk, stdout, stderr)
		if code != 0 {
			return code
		}
		opt.Image, opt.Check, opt.Alive = res, health.Check, health.Alive
		dep, err = images.Deploy(ctx, opt)
		if err == nil {
			printDeployed(stdout, dep, health.Hosts, health.Serials)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "islet deploy: %v\n", err)
		return 1
	}
	if *rollback {
		fmt.Fprintf(stdout, "%s runs image %s again, at %s\n", dep.Name, dep.Image, dep.Addr)
	}
	return 0
}

// report tells what the deployment at dep.Addr serves: how long it has
// run, its zones' serials and its certificates, asked through dial.
func report(ctx context.Context, stdout, stderr io.Writer, dir string, dep *images.Deployment, dial images.Dial) {
	up := "up since an unknown time"
	if !dep.Started.IsZero() {
		up = fmt.Sprintf("up %v (started %s)", time.Since(dep.Started).Round(time.Second), dep.Started.Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "address %s, %s\n", dep.Addr, up)
	cfg, err := appliance.LoadConfig(dir)
	if err != nil {
		fmt.Fprintf(stderr, "islet deploy: %v\n", err)
		return
	}
	if set, _, err := zones.LoadDir(cfg.ZonesDir()); err == nil {
		for _, z := range set.Zones() {
			serial, err := zones.SOASerial(ctx, dial, netip.AddrPortFrom(dep.Addr, 53).String(), z.Origin)
			if err != nil {
				fmt.Fprintf(stdout, "  %s: %v\n", z.Origin, err)
			} else {
				fmt.Fprintf(stdout, "  %s serial %d\n", z.Origin, serial)
			}
		}
	}
	names := cfg.SiteHostNames()
	for _, h := range cfg.Hosts {
		if !h.Site {
			names = append(names, h.Names...)
		}
	}
	for _, name := range names {
		if strings.HasPrefix(name, "*.") {
			continue
		}
		fmt.Fprintf(stdout, "  https://%s/: %s\n", name, servedCertificate(ctx, dial, dep.Addr, name))
	}
}

// servedCertificate describes the certificate the deployment at addr
// serves for name: who issued it and until when.
func servedCertificate(ctx context.Context, dial images.Dial, addr netip.Addr, name string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := dial(ctx, "tcp", netip.AddrPortFrom(addr, 443).String())
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	tc := ctls.Client(c, &ctls.Config{ServerName: name, InsecureSkipVerify: true}) // described, not trusted
	if err := tc.HandshakeContext(ctx); err != nil {
		return "TLS: " + err.Error()
	}
	cert := tc.ConnectionState().PeerCertificates[0]
	issuer := cert.Issuer.CommonName
	if issuer == "" {
		issuer = cert.Issuer.String()
	}
	if cert.Issuer.String() == cert.Subject.String() {
		issuer = "self-signed"
	}
	return fmt.Sprintf("certificate from %s, valid until %s (%d days left)", issuer, cert.NotAfter.UTC().Format(time.RFC3339), int(time.Until(cert.NotAfter).Hours()/24))
}

// printDeployed tells how to reach the deployment, as islet run does.
func printDeployed(w io.Writer, dep *images.Deployment, hosts []string, serials map[string]uint32) {
	fmt.Fprintf(w, "%s runs image %s at %s:\n", dep.Name, dep.Image, dep.Addr)
	for zone := range serials {
		fmt.Fprintf(w, "  dig @%s %s SOA\n", dep.Addr, zone)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "*.") {
			fmt.Fprintf(w, "  curl -k --resolve %s:443:%s https://%s/\n", h, dep.Addr, h)
		}
	}
}

// healthOnly is the health of the appliance in dir from its zones, with
// no build: enough to tell that a deployment answers.
func healthOnly(dir string, stderr io.Writer) (images.Result, appliance.Health, int) {
	cfg, err := appliance.LoadConfig(dir)
	if err != nil {
		fmt.Fprintf(stderr, "islet deploy: %v\n", err)
		return images.Result{}, appliance.Health{}, 1
	}
	set, _, err := zones.LoadDir(cfg.ZonesDir())
	if err != nil {
		return images.Result{}, appliance.Health{}, 1
	}
	h, err := appliance.NewHealth(set, nil, nil)
	if err != nil {
		return images.Result{}, appliance.Health{}, 1
	}
	return images.Result{}, h, 0
}
