package images

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Qemu is one boot of the image under qemu-system-x86_64 with user-mode
// networking: the host's ports forwarded to the guest's DNS (UDP and
// TCP 53), HTTP (80) and HTTPS (443).
type Qemu struct {
	Kernel, Initramfs string
	// Disk, instead of Kernel and Initramfs, is a disk image (disk.raw)
	// that the UEFI firmware boots: OVMF's code from Firmware, its
	// variables from a copy of FirmwareVars made for the boot. The
	// boot entry on the disk holds the command line, so Boot is not
	// used.
	Disk                   string
	Firmware, FirmwareVars string
	// StateDisk, if set, is attached as a virtio disk: the guest keeps
	// its certificates there.
	StateDisk string
	// DNS, HTTP and HTTPS are the host side of the forwards
	// ("127.0.0.1:5353"); an empty one is not forwarded.
	DNS, HTTP, HTTPS string
	// Memory in MiB (256 when 0).
	Memory int
	// Machine is "q35" (the default) or "microvm" (virtio-mmio devices,
	// no PCI; boots faster).
	Machine string
	// Accel is "kvm" or "tcg"; empty: KVM where /dev/kvm opens, with a
	// silent fall back to TCG when KVM fails at boot.
	Accel string
	// Reboot lets the guest reboot (a panic reboots it, see the kernel's
	// panic= setting); otherwise a reboot ends qemu.
	Reboot bool
	// QMP is the path of a unix socket for qemu's machine protocol, which
	// presses the ACPI power button; Run makes a temporary one if empty.
	QMP string
	// Boot settings, islet.NAME=VALUE, go on the kernel command line.
	Boot []string
}

// tscKHz tells the kernel the TSC frequency under microvm, which has no
// device it could calibrate against under TCG (it hangs otherwise).
const tscKHz = "tsc_early_khz=2000000"

// Args are qemu's arguments for the boot.
func (q Qemu) Args() []string {
	mem := q.Memory
	if mem == 0 {
		mem = 256
	}
	cmdline := guestCmdline
	args := []string{"-m", fmt.Sprint(mem), "-nographic"}
	if q.Accel != "" {
		args = append(args, "-accel", q.Accel)
	}
	if !q.Reboot {
		args = append(args, "-no-reboot")
	}
	microvm := q.Machine == "microvm"
	dev := func(pci, mmio string) string {
		if microvm {
			return mmio
		}
		return pci
	}
	if microvm {
		args = append(args, "-M", "microvm")
		cmdline += " " + tscKHz
	} else {
		args = append(args, "-M", "q35")
	}
	if q.Disk != "" {
		args = append(args, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+q.Firmware,
			"-drive", "if=pflash,format=raw,unit=1,file="+q.FirmwareVars,
			"-drive", "id=boot,if=none,format=raw,file="+q.Disk, "-device", "virtio-blk-pci,drive=boot,bootindex=1")
	} else {
		for _, b := range q.Boot {
			cmdline += " " + b
		}
		args = append(args, "-kernel", q.Kernel, "-initrd", q.Initramfs, "-append", cmdline)
	}
	args = append(args, "-netdev", "user,id=net0"+q.forwards(), "-device", dev("virtio-net-pci", "virtio-net-device")+",netdev=net0")
	args = append(args, "-device", dev("virtio-rng-pci", "virtio-rng-device"))
	if q.StateDisk != "" {
		args = append(args, "-drive", "id=state,if=none,format=raw,file="+q.StateDisk,
			"-device", dev("virtio-blk-pci", "virtio-blk-device")+",drive=state")
	}
	if q.QMP != "" {
		args = append(args, "-qmp", "unix:"+q.QMP+",server=on,wait=off")
	}
	return args
}

func (q Qemu) forwards() string {
	var f string
	if q.DNS != "" {
		f += fmt.Sprintf(",hostfwd=udp:%s-:53,hostfwd=tcp:%s-:53", q.DNS, q.DNS)
	}
	if q.HTTP != "" {
		f += fmt.Sprintf(",hostfwd=tcp:%s-:80", q.HTTP)
	}
	if q.HTTPS != "" {
		f += fmt.Sprintf(",hostfwd=tcp:%s-:443", q.HTTPS)
	}
	return f
}

// ovmfPaths are where Debian's ovmf puts the firmware's code and its
// variables' template, newest layout first.
var ovmfPaths = [][2]string{
	{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"},
	{"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"},
}

// FindOVMF returns the paths of the UEFI firmware for qemu (OVMF) and of
// its variables' template.
func FindOVMF() (code, vars string, err error) {
	for _, p := range ovmfPaths {
		if exists(p[0], p[1]) {
			return p[0], p[1], nil
		}
	}
	return "", "", errors.New("images: booting a disk image needs UEFI firmware for qemu (apt-get install ovmf)")
}

// StopGrace is how long Run waits for the guest to power off after
// pressing its power button before it stops qemu itself.
const StopGrace = 5 * time.Second

// Run boots the image and returns when the guest powers off. The
// guest's console goes to console and reads from keyboard (nil: none).
// When ctx ends, Run presses the guest's ACPI power button, so that it
// stops its services and powers off, and kills qemu after StopGrace if
// it has not. With Accel empty, Run uses KVM when /dev/kvm opens and
// boots again under TCG when KVM fails before the guest starts (nested
// virtualisation often does).
func (q Qemu) Run(ctx context.Context, console io.Writer, keyboard io.Reader) error {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return errors.New("images: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
	}
	if q.QMP == "" || q.Disk != "" {
		dir, err := os.MkdirTemp("", "islet-qmp-")
		if err != nil {
			return fmt.Errorf("images: %w", err)
		}
		defer os.RemoveAll(dir)
		if q.QMP == "" {
			q.QMP = dir + "/qmp.sock"
		}
		if q.Disk != "" {
			if q.Machine == "microvm" {
				return errors.New("images: a disk image boots through UEFI firmware, which microvm has not")
			}
			if q.Firmware == "" {
				if q.Firmware, q.FirmwareVars, err = FindOVMF(); err != nil {
					return err
				}
			}
			// The firmware writes its variables: each boot gets a
			// fresh copy, as a new machine would.
			vars, err := os.ReadFile(q.FirmwareVars)
			if err != nil {
				return fmt.Errorf("images: %w", err)
			}
			q.FirmwareVars = dir + "/vars.fd"
			if err := os.WriteFile(q.FirmwareVars, vars, 0o600); err != nil {
				return fmt.Errorf("images: %w", err)
			}
		}
	}
	fallback := false
	if q.Accel == "" {
		q.Accel = "tcg"
		if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
			f.Close()
			q.Accel, fallback = "kvm", true
		}
	}
	// One reader of the keyboard for every attempt, handing what is
	// typed to the qemu that runs now.
	var typed *switchWriter
	if keyboard != nil {
		typed = &switchWriter{}
		go io.Copy(typed, keyboard)
	}
	if fallback {
		err, kvmFailed := q.run(ctx, qemu, console, typed, true)
		if !kvmFailed {
			return err
		}
		q.Accel = "tcg"
	}
	err, _ = q.run(ctx, qemu, console, typed, false)
	return err
}

// switchWriter writes to the writer set last (nowhere before).
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		s.w.Write(p) // a qemu that has gone takes nothing; the keyboard goes on
	}
	return len(p), nil
}

// run boots once. With watchKVM, the console is held back until the
// guest starts; if qemu reports a KVM failure before that, run returns
// kvmFailed and nothing of that attempt reaches console.
func (q Qemu) run(ctx context.Context, qemu string, console io.Writer, keyboard *switchWriter, watchKVM bool) (err error, kvmFailed bool) {
	os.Remove(q.QMP)
	cmd := exec.Command(qemu, q.Args()...)
	// Its own process group: a terminal's Ctrl-C reaches islet, which
	// presses the power button, and not qemu, which would just quit.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("images: %w", err), false
	}
	cmd.Stderr = cmd.Stdout
	var in io.WriteCloser
	if keyboard != nil {
		if in, err = cmd.StdinPipe(); err != nil {
			return fmt.Errorf("images: %w", err), false
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("images: start qemu: %w", err), false
	}
	var failed bool
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// qemu stays up, paused, after a KVM failure: stop it.
		if failed = copyConsole(console, out, watchKVM); failed {
			cmd.Process.Kill()
		}
	}()
	if in != nil {
		keyboard.set(in)
		defer keyboard.set(nil)
	}
	exited := make(chan error, 1)
	go func() { <-copied; exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-ctx.Done():
		pctx, cancel := context.WithTimeout(context.Background(), StopGrace)
		defer cancel()
		if perr := PowerButton(pctx, q.QMP); perr != nil {
			fmt.Fprintf(console, "islet: power button: %v\n", perr)
		}
		select {
		case err = <-exited:
		case <-pctx.Done():
			cmd.Process.Kill()
			<-exited
			return errors.New("images: the guest did not power off within " + StopGrace.String() + " of its power button; qemu killed"), false
		}
	}
	if failed {
		return nil, true
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("images: qemu: %w", err), false
	}
	return nil, false
}

// copyConsole copies qemu's output line by line. With hold, lines are
// kept until the guest's init starts; a KVM failure before that is
// reported as failed and the held lines are dropped.
func copyConsole(console io.Writer, out io.Reader, hold bool) (failed bool) {
	r := bufio.NewReader(out)
	var held []string
	for {
		line, err := r.ReadString('\n')
		if hold {
			held = append(held, line)
			switch {
			case strings.Contains(line, "KVM internal error") || strings.Contains(line, "failed to initialize kvm") || strings.Contains(line, "Could not access KVM"):
				go io.Copy(io.Discard, r)
				return true
			case strings.Contains(line, "Run /init") || strings.Contains(line, "islet guest starting"):
				hold = false
				for _, l := range held {
					io.WriteString(console, l)
				}
				held = nil
			}
		} else if line != "" {
			io.WriteString(console, line)
		}
		if err != nil {
			for _, l := range held {
				io.WriteString(console, l)
			}
			return false
		}
	}
}

// PowerButton presses the guest's ACPI power button through qemu's
// machine protocol socket: the guest stops its services and powers off.
func PowerButton(ctx context.Context, socket string) error {
	var conn net.Conn
	var err error
	for {
		conn, err = (&net.Dialer{}).DialContext(ctx, "unix", socket)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("images: qmp: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	dec := json.NewDecoder(conn)
	var greeting map[string]any
	if err := dec.Decode(&greeting); err != nil {
		return fmt.Errorf("images: qmp greeting: %w", err)
	}
	for _, cmd := range []string{"qmp_capabilities", "system_powerdown"} {
		if _, err := fmt.Fprintf(conn, "{\"execute\":%q}\n", cmd); err != nil {
			return fmt.Errorf("images: qmp %s: %w", cmd, err)
		}
		for {
			var reply struct {
				Return json.RawMessage `json:"return"`
				Error  *struct {
					Desc string `json:"desc"`
				} `json:"error"`
			}
			if err := dec.Decode(&reply); err != nil {
				return fmt.Errorf("images: qmp %s: %w", cmd, err)
			}
			if reply.Error != nil {
				return fmt.Errorf("images: qmp %s: %s", cmd, reply.Error.Desc)
			}
			if reply.Return != nil {
				break // events (no "return") are skipped
			}
		}
	}
	return nil
}
