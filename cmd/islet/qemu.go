package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"islet.dev/islet/images"
)

// runQemu builds the image of dir and boots it under qemu, with the
// host side of the DNS, HTTP and HTTPS forwards taken from --dns,
// --http and --https.
func runQemu(fs *flag.FlagSet, f *serveFlags, dir string, stdout, stderr io.Writer) int {
	res, code := build(dir, "", stdout, stderr)
	if code != 0 {
		return code
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		fmt.Fprintln(stderr, "islet run: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
		return 1
	}
	boot := []string{"islet.acme-directory=off"} // a development host: self-signed
	if flagSet(fs, "acme-directory") {
		boot = []string{"islet.acme-directory=" + f.acmeDirectory}
	}
	dns := strings.Split(f.dns, ",")[0]
	args := images.QemuArgs(res.Kernel, res.Initramfs, dns, f.http, f.https, boot...)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.Stdout, cmd.Stderr = stderr, stderr // the guest's console
	host, port, _ := net.SplitHostPort(dns)
	_, hport, _ := net.SplitHostPort(f.https)
	fmt.Fprintf(stdout, "booting the image under qemu; once the console says \"islet ready\":\n  dig @%s -p %s SOA <zone>\n  curl -k --resolve NAME:%s:%s https://NAME:%s/\nCtrl-C stops it.\n", host, port, hport, host, hport)
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "islet run: qemu: %v\n", err)
		return 1
	}
	return 0
}
