package images

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"
)

// guestCmdline is the kernel command line every descriptor boots with:
// the console on the first serial port, and a reboot at once when the
// guest panics (a Go panic in init is a kernel panic). islet.NAME=VALUE
// boot settings are appended by the operator.
const guestCmdline = "console=ttyS0 panic=-1 quiet"

// descriptors are the launch script and the deploy descriptors for
// real hypervisors, written next to the image: the qemu script with
// paths relative to itself, the others with absolute paths.
func descriptors(r Result, name string) (map[string][]byte, error) {
	abs := func(p string) (string, error) {
		if p == "" {
			return "", nil
		}
		return filepath.Abs(p)
	}
	var kernel, vmlinux, initrd, state string
	for _, p := range []struct {
		dst *string
		src string
	}{{&kernel, r.Kernel}, {&vmlinux, r.Vmlinux}, {&initrd, r.Initramfs}, {&state, r.StateDisk}} {
		var err error
		if *p.dst, err = abs(p.src); err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
	}
	lv, err := libvirtXML(name, kernel, initrd, state)
	if err != nil {
		return nil, err
	}
	fc, err := firecrackerJSON(vmlinux, initrd, state)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"run-qemu.sh":         qemuScript(r.StateDisk != ""),
		"libvirt.xml":         lv,
		"xen.cfg":             xenConfig(name, kernel, initrd, state),
		"cloud-hypervisor.sh": cloudHypervisor(kernel, initrd, state),
		"firecracker.json":    fc,
	}, nil
}

// qemuScript boots the image from its own folder, as islet run --target
// qemu does, with the host's ports forwarded.
func qemuScript(state bool) []byte {
	q := Qemu{Kernel: "vmlinuz", Initramfs: "initramfs.gz", DNS: "127.0.0.1:5353", HTTP: "127.0.0.1:8080", HTTPS: "127.0.0.1:8443", Reboot: true}
	if state {
		q.StateDisk = "state.img"
	}
	var b strings.Builder
	b.WriteString(`#!/bin/sh
# Boots this appliance under qemu with DNS on 127.0.0.1:5353 (UDP and
# TCP), HTTP on :8080 and HTTPS on :8443. Boot settings (islet.NAME=VALUE,
# the names of "islet serve" flags) go after the script's arguments.
# KVM where it works, else software emulation (ACCEL=tcg forces it: KVM
# can start and then fail, as nested virtualisation often does).
# "islet.shutdown" typed on the console powers the guest off; Ctrl-A X
# leaves qemu at once. A panic reboots the guest.
cd "$(dirname "$0")"
exec qemu-system-x86_64 -accel "${ACCEL:-kvm}" -accel tcg`)
	for _, a := range q.Args() {
		if strings.HasPrefix(a, guestCmdline) {
			fmt.Fprintf(&b, " \\\n  \"%s $*\"", a)
			continue
		}
		if strings.HasPrefix(a, "-") {
			b.WriteString(" \\\n ")
		}
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return []byte(b.String())
}

func shellQuote(s string) string {
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:=/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type libvirtDisk struct {
	Type   string `xml:"type,attr"`
	Device string `xml:"device,attr"`
	Driver struct {
		Name string `xml:"name,attr"`
		Type string `xml:"type,attr"`
	} `xml:"driver"`
	Source struct {
		File string `xml:"file,attr"`
	} `xml:"source"`
	Target struct {
		Dev string `xml:"dev,attr"`
		Bus string `xml:"bus,attr"`
	} `xml:"target"`
}

type libvirtDomain struct {
	XMLName xml.Name `xml:"domain"`
	Type    string   `xml:"type,attr"`
	Name    string   `xml:"name"`
	UUID    string   `xml:"uuid,omitempty"`
	// Description holds, in a deployed domain, the images deployed
	// (deploy.go).
	Description string `xml:"description,omitempty"`
	Memory      struct {
		Unit  string `xml:"unit,attr"`
		Value int    `xml:",chardata"`
	} `xml:"memory"`
	VCPU int `xml:"vcpu"`
	OS   struct {
		Type struct {
			Arch    string `xml:"arch,attr"`
			Machine string `xml:"machine,attr"`
			Value   string `xml:",chardata"`
		} `xml:"type"`
		Kernel  string `xml:"kernel"`
		Initrd  string `xml:"initrd"`
		Cmdline string `xml:"cmdline"`
	} `xml:"os"`
	// ACPI carries the power button ("virsh shutdown").
	Features struct {
		ACPI struct{} `xml:"acpi"`
	} `xml:"features"`
	OnPoweroff string `xml:"on_poweroff"`
	OnReboot   string `xml:"on_reboot"`
	OnCrash    string `xml:"on_crash"`
	Devices    struct {
		Disk      *libvirtDisk `xml:"disk"`
		Interface struct {
			Type   string `xml:"type,attr"`
			Source struct {
				Network string `xml:"network,attr"`
			} `xml:"source"`
			Model struct {
				Type string `xml:"type,attr"`
			} `xml:"model"`
		} `xml:"interface"`
		RNG struct {
			Model   string `xml:"model,attr"`
			Backend struct {
				Model string `xml:"model,attr"`
				Value string `xml:",chardata"`
			} `xml:"backend"`
		} `xml:"rng"`
		Serial struct {
			Type   string `xml:"type,attr"`
			Target struct {
				Port int `xml:"port,attr"`
			} `xml:"target"`
		} `xml:"serial"`
	} `xml:"devices"`
}

// libvirtXML is a domain that boots the kernel directly, with a virtio
// NIC on libvirt's default network, a virtio RNG, ACPI for the power
// button and the state disk as a virtio disk.
func libvirtXML(name, kernel, initrd, state string) ([]byte, error) {
	var d libvirtDomain
	d.Type, d.Name, d.VCPU = "kvm", "islet-"+name, 1
	d.Memory.Unit, d.Memory.Value = "MiB", 256
	d.OS.Type.Arch, d.OS.Type.Machine, d.OS.Type.Value = "x86_64", "q35", "hvm"
	d.OS.Kernel, d.OS.Initrd, d.OS.Cmdline = kernel, initrd, guestCmdline
	d.OnPoweroff, d.OnReboot, d.OnCrash = "destroy", "restart", "restart"
	if state != "" {
		d.Devices.Disk = &libvirtDisk{Type: "file", Device: "disk"}
		d.Devices.Disk.Driver.Name, d.Devices.Disk.Driver.Type = "qemu", "raw"
		d.Devices.Disk.Source.File = state
		d.Devices.Disk.Target.Dev, d.Devices.Disk.Target.Bus = "vda", "virtio"
	}
	d.Devices.Interface.Type, d.Devices.Interface.Source.Network, d.Devices.Interface.Model.Type = "network", "default", "virtio"
	d.Devices.RNG.Model, d.Devices.RNG.Backend.Model, d.Devices.RNG.Backend.Value = "virtio", "random", "/dev/urandom"
	d.Devices.Serial.Type = "pty"
	out, err := xml.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("images: libvirt: %w", err)
	}
	return append(out, '\n'), nil
}

// xenConfig boots the image as a PV guest with xl create: the pinned
// kernel has Xen PV support but not PVH (CONFIG_PVH is off), and xl
// loads a bzImage for PV directly. The console is hvc0, the NIC
// xen-netfront (eth0), the state disk xvda.
func xenConfig(name, kernel, initrd, state string) []byte {
	var b strings.Builder
	b.WriteString("# xl create xen.cfg\n")
	fmt.Fprintf(&b, "name = %q\ntype = \"pv\"\nkernel = %q\nramdisk = %q\n", "islet-"+name, kernel, initrd)
	fmt.Fprintf(&b, "extra = %q\nmemory = 256\nvcpus = 1\nvif = [ \"bridge=xenbr0\" ]\n", strings.Replace(guestCmdline, "ttyS0", "hvc0", 1))
	if state != "" {
		fmt.Fprintf(&b, "disk = [ %q ]\n", "format=raw, vdev=xvda, access=rw, target="+state)
	}
	b.WriteString("on_poweroff = \"destroy\"\non_reboot = \"restart\"\non_crash = \"restart\"\n")
	return []byte(b.String())
}

// cloudHypervisor is the command line that boots the image with
// cloud-hypervisor (a release that boots a bzImage directly, 2024 on)
// on the TAP device tap0.
func cloudHypervisor(kernel, initrd, state string) []byte {
	disk := ""
	if state != "" {
		disk = fmt.Sprintf(" \\\n  --disk path=%s", shellQuote(state))
	}
	return []byte(fmt.Sprintf(`#!/bin/sh
# Boots the appliance with cloud-hypervisor on the TAP device tap0;
# "ch-remote power-button" stops it cleanly.
exec cloud-hypervisor --kernel %s --initramfs %s \
  --cmdline "%s $*" --cpus boot=1 --memory size=256M \
  --net tap=tap0 --rng%s --serial tty --console off
`, shellQuote(kernel), shellQuote(initrd), guestCmdline, disk))
}

// firecrackerJSON is a configuration for firecracker --config-file:
// the ELF kernel (Firecracker loads no bzImage), tap0, an entropy
// device and the state disk. The pinned kernel finds virtio-mmio devices
// through ACPI only (it takes no virtio_mmio.device= parameters), which
// Firecracker describes from release 1.8 on. SendCtrlAltDel stops the
// guest cleanly; a reboot ends the Firecracker process.
func firecrackerJSON(vmlinux, initrd, state string) ([]byte, error) {
	type drive struct {
		ID       string `json:"drive_id"`
		Path     string `json:"path_on_host"`
		Root     bool   `json:"is_root_device"`
		ReadOnly bool   `json:"is_read_only"`
	}
	cfg := struct {
		Boot struct {
			Kernel string `json:"kernel_image_path"`
			Initrd string `json:"initrd_path"`
			Args   string `json:"boot_args"`
		} `json:"boot-source"`
		Drives  []drive `json:"drives"`
		Machine struct {
			VCPUs  int `json:"vcpu_count"`
			MemMiB int `json:"mem_size_mib"`
		} `json:"machine-config"`
		Net []struct {
			ID  string `json:"iface_id"`
			Dev string `json:"host_dev_name"`
		} `json:"network-interfaces"`
		Entropy struct{} `json:"entropy"`
	}{}
	cfg.Boot.Kernel, cfg.Boot.Initrd, cfg.Boot.Args = vmlinux, initrd, guestCmdline
	cfg.Drives = []drive{}
	if state != "" {
		cfg.Drives = append(cfg.Drives, drive{ID: "state", Path: state})
	}
	cfg.Machine.VCPUs, cfg.Machine.MemMiB = 1, 256
	cfg.Net = append(cfg.Net, struct {
		ID  string `json:"iface_id"`
		Dev string `json:"host_dev_name"`
	}{"eth0", "tap0"})
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("images: firecracker: %w", err)
	}
	return append(out, '\n'), nil
}
