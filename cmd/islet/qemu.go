//go:build !guest

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"islet.dev/islet/images"
)

// qemuFlags are the flags only "islet run --target qemu" has.
type qemuFlags struct {
	machine, accel string
	memory         int
}

func (q *qemuFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&q.machine, "machine", "q35", "with --target qemu: the machine, q35 or microvm")
	fs.StringVar(&q.accel, "accel", "", "with --target qemu: kvm or tcg (default: KVM where it works, else TCG)")
	fs.IntVar(&q.memory, "memory", 256, "with --target qemu: the guest's memory in `MiB`")
}

// runQemu builds the image of dir and boots it under qemu, with the
// host side of the DNS, HTTP and HTTPS forwards taken from --dns,
// --http and --https. Ctrl-C or SIGTERM presses the guest's power
// button: it stops its services and powers off.
func runQemu(fs *flag.FlagSet, f *serveFlags, q *qemuFlags, dir string, stdout, stderr io.Writer) int {
	switch q.machine {
	case "q35", "microvm":
	default:
		fmt.Fprintf(stderr, "islet run: --machine %s: want q35 or microvm\n", q.machine)
		return 2
	}
	switch q.accel {
	case "", "kvm", "tcg":
	default:
		fmt.Fprintf(stderr, "islet run: --accel %s: want kvm or tcg\n", q.accel)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, code := build(ctx, dir, "", defaultStateDisk, stdout, stderr)
	if code != 0 {
		return code
	}
	boot := []string{"islet.acme-directory=off"} // a development host: self-signed
	if flagSet(fs, "acme-directory") {
		boot = []string{"islet.acme-directory=" + f.acmeDirectory}
	}
	dns := strings.Split(f.dns, ",")[0]
	vm := images.Qemu{
		Kernel: res.Kernel, Initramfs: res.Initramfs, StateDisk: res.StateDisk,
		DNS: dns, HTTP: f.http, HTTPS: f.https,
		Memory: q.memory, Machine: q.machine, Accel: q.accel, Reboot: true, Boot: boot,
	}
	host, port, _ := net.SplitHostPort(dns)
	_, hport, _ := net.SplitHostPort(f.https)
	fmt.Fprintf(stdout, "booting the image under qemu; once the console says \"islet ready\":\n  dig @%s -p %s SOA <zone>\n  curl -k --resolve NAME:%s:%s https://NAME:%s/\nCtrl-C powers it off.\n", host, port, hport, host, hport)
	if err := vm.Run(ctx, stderr, os.Stdin); err != nil {
		fmt.Fprintf(stderr, "islet run: %v\n", err)
		return 1
	}
	return 0
}
