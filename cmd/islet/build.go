//go:build !guest

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"islet.dev/islet/appliance"
	"islet.dev/islet/images"
	"islet.dev/islet/zones"
)

// bootSettings are the kernel command line parameters an image accepts.
const bootSettings = `boot-time settings (kernel command line):
  islet.ipv4=ADDR/LEN|none     static address, or none for IPv6 only (default: DHCP)
  islet.ipv4-gateway=ADDR      default gateway
  islet.ipv6=ADDR/LEN          static IPv6 address (SLAAC otherwise)
  islet.ipv6-gateway=ADDR
  islet.resolver=ADDR          DNS server for islet's own lookups (ACME); default: DHCP's
  islet.net=host               the kernel's TCP/IP stack instead of islet's (needs islet.ipv4)
  islet.acme-directory=URL     ACME directory (Let's Encrypt by default; "off": self-signed)
`

func cmdBuild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `DIR` (default DIR/_build)")
	state := fs.String("state-disk", "16M", "`SIZE` of the state disk made when the output has none (ext4, for the ACME account and certificates); 0: none")
	disk := fs.Bool("disk", false, "also write disk.raw: a GPT disk image that boots on UEFI machines and clouds (EFI system partition with systemd-boot, the kernel and initramfs; a state partition)")
	var boot listFlag
	fs.Var(&boot, "boot", "boot `SETTING` (islet.NAME=VALUE) written into disk.raw's kernel command line; repeatable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet build [-o OUT] [--disk [--boot islet.NAME=VALUE]...] DIR\n\nChecks the appliance in DIR and packs a bootable image (kernel, initramfs with\nthe guest as /init) and a qemu launch script into DIR/_build.")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	size, err := parseSize(*state)
	if err != nil {
		fmt.Fprintf(stderr, "islet build: --state-disk: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(boot) > 0 && !*disk {
		fmt.Fprintln(stderr, "islet build: --boot sets disk.raw's command line: give --disk too (other targets take boot settings when started)")
		return 2
	}
	var health appliance.Health
	collectForRender()
	res, code := buildImage(ctx, fs.Arg(0), buildOptions{out: *out, stateDisk: size, disk: *disk, boot: boot}, stdout, stderr, &health)
	if code == 0 {
		fmt.Fprintf(stdout, "image: %s, %s\n", res.Kernel, res.Initramfs)
		if res.StateDisk != "" {
			fmt.Fprintf(stdout, "state disk: %s (kept across builds: it holds the certificates)\n", res.StateDisk)
		}
		if res.Disk != "" {
			fmt.Fprintf(stdout, "disk image: %s (UEFI; docs/deploy.md says how to import it into a cloud)\n", res.Disk)
		}
		fmt.Fprintf(stdout, "boot it: %s\ndeploy descriptors: libvirt.xml, xen.cfg, firecracker.json, cloud-hypervisor.sh\n%s", res.QemuScript, bootSettings)
	}
	return code
}

// defaultStateDisk is the size of the state disk a build makes.
const defaultStateDisk = 16 << 20

// build checks an appliance folder and packs its image with a state
// disk of stateDisk bytes (none when 0), until ctx ends.
func build(ctx context.Context, dir, out string, stateDisk int64, stdout, stderr io.Writer) (images.Result, int) {
	res, _, code := buildWithHealth(ctx, dir, out, stateDisk, stdout, stderr)
	return res, code
}

// buildWithHealth is build, and what the image must serve to be healthy.
func buildWithHealth(ctx context.Context, dir, out string, stateDisk int64, stdout, stderr io.Writer) (images.Result, appliance.Health, int) {
	var health appliance.Health
	res, code := buildImage(ctx, dir, buildOptions{out: out, stateDisk: stateDisk}, stdout, stderr, &health)
	return res, health, code
}

// buildOptions are islet build's flags: the output folder, the state
// disk's size, and the disk image with its boot settings.
type buildOptions struct {
	out       string
	stateDisk int64
	disk      bool
	boot      []string
}

func buildImage(ctx context.Context, dir string, o buildOptions, stdout, stderr io.Writer, health *appliance.Health) (images.Result, int) {
	out := o.out
	if out == "" {
		out = filepath.Join(dir, "_build")
	}
	cfg, err := appliance.LoadConfig(dir)
	if err != nil {
		fmt.Fprintf(stderr, "islet build: %v\n", err)
		return images.Result{}, 1
	}
	bad := false
	for _, e := range cfg.Check() {
		fmt.Fprintln(stderr, e)
		bad = true
	}
	set, diags, err := zones.LoadDir(cfg.ZonesDir())
	for _, d := range diags {
		fmt.Fprintln(stderr, d)
	}
	if err != nil || bad {
		fmt.Fprintln(stderr, "islet build: the appliance has errors; nothing was built")
		return images.Result{}, 1
	}
	fmt.Fprintf(stdout, "%-20s ok\n", "check")
	if keys := cfg.KeysDir(); keys != "" && cfg.DNSSEC.Enabled() {
		// Keys baked into the image: every zone signed has its key
		// before the image is packed.
		n, err := bakeKeys(cfg, set, keys)
		if err != nil {
			fmt.Fprintf(stderr, "islet build: %v\nislet build: nothing was built\n", err)
			return images.Result{}, 1
		}
		fmt.Fprintf(stdout, "%-20s %d zones, keys from %s baked into the image\n", "dnssec keys", n, keys)
	}
	var site fs.FS
	if cfg.SiteDir() != "" {
		start := time.Now()
		rendered, err := appliance.RenderSite(ctx, cfg.SiteDir(), true, slog.New(slog.NewTextHandler(stderr, nil)))
		if err != nil {
			fmt.Fprintf(stderr, "islet build: %v\nislet build: nothing was built\n", err)
			return images.Result{}, 1
		}
		defer rendered.Close()
		site = rendered.FS()
		fmt.Fprintf(stdout, "%-20s %v (%d files)\n", "render site", time.Since(start).Round(time.Millisecond), len(rendered.Paths()))
		start = time.Now()
		if site, err = appliance.Precompressed(site); err != nil {
			fmt.Fprintf(stderr, "islet build: %v\nislet build: nothing was built\n", err)
			return images.Result{}, 1
		}
		fmt.Fprintf(stdout, "%-20s %v\n", "precompress site", time.Since(start).Round(time.Millisecond))
	}
	res, err := images.Build(ctx, images.BuildOptions{Data: appliance.ImageData(dir, site), Out: out, Progress: stdout, Name: applianceName(dir), StateDisk: o.stateDisk, Disk: o.disk, DiskBoot: o.boot, Source: os.Getenv("ISLET_SRC")})
	if err != nil {
		fmt.Fprintf(stderr, "islet build: %v\n", err)
		return res, 1
	}
	if *health, err = appliance.NewHealth(set, site, cfg.SiteHostNames()); err != nil {
		fmt.Fprintf(stderr, "islet build: %v\n", err)
		return res, 1
	}
	return res, 0
}

// applianceName names the machine after the appliance folder.
func applianceName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "appliance"
	}
	return filepath.Base(abs)
}

// bakeKeys makes sure the key folder of an image that bakes its DNSSEC
// keys in holds a key for every zone signed, and returns how many.
func bakeKeys(cfg *appliance.Config, set *zones.Set, dir string) (int, error) {
	signer, err := cfg.DNSSEC.NewSigner(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, z := range set.Zones() {
		if !signer.Signs(z) {
			continue
		}
		if _, err := signer.Keys().Keys(z.Origin, time.Now()); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
