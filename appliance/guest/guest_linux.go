//go:build linux

package guest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"islet.dev/islet/appliance"
	"islet.dev/islet/internal/meminfo"
	"islet.dev/islet/zones"
)

// Run runs islet as PID 1 of the appliance image: it mounts what the
// services need and the state disk if there is one (the certificate
// cache), reads its boot-time settings from the kernel command line
// (islet.NAME=VALUE, the names of "islet serve" flags), and runs the
// services on the userspace stack on eth0 under a supervisor
// (supervise.go): a failure restarts them, failures that go on reboot
// the machine, and only a deliberate stop powers it off — SIGTERM,
// SIGINT, Ctrl-Alt-Del, the ACPI power button, or "islet.shutdown" on
// the console. A Go panic ends init, which the kernel turns into a panic
// and (panic=-1) a reboot.
func Run() error {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for _, m := range []struct{ src, dst, fstype string }{
		{"devtmpfs", "/dev", "devtmpfs"}, {"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"},
	} {
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			log.Warn("mount", "what", m.dst, "err", err)
		}
	}
	// The machine is all islet's: Go's collector works harder as the
	// heap nears what there is, rather than the kernel killing init
	// for memory that is garbage (many clients that stopped reading
	// leave much of it).
	if avail := meminfo.Available(); avail > 0 {
		limit := avail * 3 / 4
		debug.SetMemoryLimit(limit)
		log.Info("memory", "component", "guest", "available_mb", avail>>20, "go_limit_mb", limit>>20)
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	params := bootParams(string(cmdline))
	log.Info("islet guest starting", "component", "guest", "boot_settings", params)
	opt, err := guestOptions(Root, params, log)
	if err != nil {
		log.Error("bad boot settings", "component", "guest", "err", err)
		return err
	}
	if opt.Net.OnHost() {
		// The kernel's own stack: it gets the addresses islet's would.
		if err := kernelAddress("eth0", opt.Net); err != nil {
			log.Error("network", "component", "guest", "err", err)
			return err
		}
		log.Info("network on the kernel's stack", "component", "guest", "ipv4", opt.Net.IPv4, "gateway", opt.Net.IPv4Gateway)
	}
	cache := mountStateDisk(log)
	if cache != "" {
		opt.HTTPS.CertCache = cache // unmounted by halt
		opt.JournalDir = filepath.Join(stateMount, "journal")
		// The TSIG keys' secrets live on the state disk, never in the image.
		if keys, err := zones.ReadTSIGKeys(filepath.Join(stateMount, tsigKeysFile)); err == nil {
			opt.DNS.TSIGKeys = keys
		} else if !errors.Is(err, fs.ErrNotExist) {
			log.Error("TSIG keys not read: signed requests get NOTAUTH", "component", "guest", "err", err)
		}
	}
	stateDir := ""
	if cache != "" {
		stateDir = stateMount
	}
	if opt.DNS.Signer, err = guestSigner(Root, stateDir); err != nil {
		log.Error("DNSSEC: the zones are served unsigned", "component", "guest", "err", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Ctrl-Alt-Del (a hypervisor's "reboot") becomes SIGINT to init
	// instead of an immediate reboot, and "islet.shutdown" typed on the
	// serial console stops the appliance too.
	unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go watchConsole(os.Stdin, cancel, log)
	if watchPowerButton(ctx, cancel, log) == 0 {
		log.Info("no ACPI power button: stop with SIGTERM, Ctrl-Alt-Del or islet.shutdown on the console", "component", "guest")
	}
	opt.Ready = func(r appliance.Ready) {
		var dns []string
		for _, a := range r.DNS {
			dns = append(dns, a.String())
		}
		https := ""
		if r.HTTPS != nil {
			https = r.HTTPS.String()
		}
		log.Info("islet ready", "component", "guest", "dns", strings.Join(dns, ","), "https", https, "zones", len(r.Zones), "names", r.Names)
	}
	act, err := supervise(ctx, func(ctx context.Context) error { return runBounded(ctx, opt, log) }, realClock{}, log)
	if err != nil && act == powerOff {
		log.Error("stopped", "component", "guest", "err", err)
	}
	if act == reboot {
		halt(log, "rebooting", unix.LINUX_REBOOT_CMD_RESTART)
	} else {
		halt(log, "powering off", unix.LINUX_REBOOT_CMD_POWER_OFF)
	}
	return err
}

// runBounded runs the services until ctx ends; a stop that hangs must
// not keep the machine up: after stopGrace it says what hangs and
// returns.
func runBounded(ctx context.Context, opt appliance.Options, log *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- appliance.Run(ctx, opt) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(stopGrace):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		log.Error("services did not stop in time; going on anyway", "component", "guest", "after", stopGrace, "goroutines", string(buf))
		return nil
	}
}

// halt syncs and unmounts the state disk, then powers off or reboots
// (cmd).
func halt(log *slog.Logger, what string, cmd int) {
	log.Info(what, "component", "guest")
	unix.Sync()
	if err := unix.Unmount(stateMount, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		log.Warn("unmount the state disk", "component", "guest", "err", err)
	}
	unix.Reboot(cmd)
	time.Sleep(time.Second)
}

// stopGrace bounds how long stopping the services may take before the
// guest powers off regardless.
const stopGrace = 4 * time.Second

// watchConsole stops the appliance when "islet.shutdown" is typed on
// the console. "islet.panic" panics, to try the crash path: the trace
// on the console, then the reboot.
func watchConsole(console io.Reader, stop func(), log *slog.Logger) {
	sc := bufio.NewScanner(console)
	for sc.Scan() {
		switch strings.TrimSpace(sc.Text()) {
		case "islet.shutdown":
			log.Info("shutdown asked on the console", "component", "guest")
			stop()
			return
		case "islet.panic":
			log.Warn("panic asked on the console", "component", "guest")
			unix.Sync()
			panic("islet.panic typed on the console")
		}
	}
}
