//go:build !guest

package main

import (
	"context"
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
	status := fs.Bool("status", false, "tell what runs: image, address, serials")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet deploy DIR --to URI [--name NAME] [--health-timeout D] [--rollback | --status]\n\nBuilds DIR, uploads the image to libvirt, replaces the running deployment\n(shut down with the power button, started again on the same state disk) and\nwaits until it serves the zones' serials and the site; if it does not in\ntime, the previous image is started again.")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *to == "" || *rollback && *status {
		fs.Usage()
		return 2
	}
	dir := fs.Arg(0)
	if *name == "" {
		*name = "islet-" + applianceName(dir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opt := images.DeployOptions{URI: *to, Name: *name, HealthTimeout: *timeout, Progress: stdout}
	var dep *images.Deployment
	var err error
	switch {
	case *status:
		if dep, err = images.Status(ctx, opt); err == nil {
			fmt.Fprintf(stdout, "%s: %s, image %s (kept: %s)\n", dep.Name, dep.State, dep.Image, strings.Join(dep.Images, " "))
			if dep.Addr.IsValid() {
				fmt.Fprintf(stdout, "address %s\n", dep.Addr)
				if _, health, code := healthOnly(dir, stderr); code == 0 {
					for zone := range health.Serials {
						serial, err := zones.SOASerial(ctx, netip.AddrPortFrom(dep.Addr, 53).String(), zone)
						if err != nil {
							fmt.Fprintf(stdout, "  %s: %v\n", zone, err)
						} else {
							fmt.Fprintf(stdout, "  %s serial %d\n", zone, serial)
						}
					}
				}
				fmt.Fprintf(stdout, "certificates and counters: islet status %s:PORT, with islet.metrics=:PORT on its command line\n", dep.Addr)
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
