package images

import (
	"encoding/xml"
	"fmt"
	"path/filepath"
	"strings"
)

// guestCmdline is the kernel command line every descriptor boots with;
// islet.NAME=VALUE boot settings are appended by the operator.
const guestCmdline = "console=ttyS0 panic=-1 quiet"

// descriptors writes the deploy descriptors for real hypervisors next to
// the image, with absolute paths to the kernel and initramfs.
func descriptors(r Result, name string) (map[string][]byte, error) {
	kernel, err := filepath.Abs(r.Kernel)
	if err != nil {
		return nil, err
	}
	initrd, err := filepath.Abs(r.Initramfs)
	if err != nil {
		return nil, err
	}
	lv, err := libvirtXML(name, kernel, initrd)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"libvirt.xml":         lv,
		"xen.cfg":             xenConfig(name, kernel, initrd),
		"cloud-hypervisor.sh": cloudHypervisor(kernel, initrd),
	}, nil
}

type libvirtDomain struct {
	XMLName xml.Name `xml:"domain"`
	Type    string   `xml:"type,attr"`
	Name    string   `xml:"name"`
	Memory  struct {
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
	OnPoweroff string `xml:"on_poweroff"`
	OnCrash    string `xml:"on_crash"`
	Devices    struct {
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
// NIC on libvirt's default network and a virtio RNG.
func libvirtXML(name, kernel, initrd string) ([]byte, error) {
	var d libvirtDomain
	d.Type, d.Name, d.VCPU = "kvm", "islet-"+name, 1
	d.Memory.Unit, d.Memory.Value = "MiB", 256
	d.OS.Type.Arch, d.OS.Type.Machine, d.OS.Type.Value = "x86_64", "pc", "hvm"
	d.OS.Kernel, d.OS.Initrd, d.OS.Cmdline = kernel, initrd, guestCmdline
	d.OnPoweroff, d.OnCrash = "destroy", "restart"
	d.Devices.Interface.Type, d.Devices.Interface.Source.Network, d.Devices.Interface.Model.Type = "network", "default", "virtio"
	d.Devices.RNG.Model, d.Devices.RNG.Backend.Model, d.Devices.RNG.Backend.Value = "virtio", "random", "/dev/urandom"
	d.Devices.Serial.Type = "pty"
	out, err := xml.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("images: libvirt: %w", err)
	}
	return append(out, '\n'), nil
}

// xenConfig boots the image as a PVH guest with xl create.
func xenConfig(name, kernel, initrd string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# xl create %s\n", "xen.cfg")
	fmt.Fprintf(&b, "name = %q\ntype = \"pvh\"\nkernel = %q\nramdisk = %q\n", "islet-"+name, kernel, initrd)
	fmt.Fprintf(&b, "extra = %q\nmemory = 256\nvcpus = 1\nvif = [ \"bridge=xenbr0\" ]\non_crash = \"restart\"\n", strings.Replace(guestCmdline, "ttyS0", "hvc0", 1))
	return []byte(b.String())
}

// cloudHypervisor is the command line that boots the image with
// cloud-hypervisor on a TAP device.
func cloudHypervisor(kernel, initrd string) []byte {
	return []byte(fmt.Sprintf(`#!/bin/sh
# Boots the appliance with cloud-hypervisor on the TAP device tap0.
exec cloud-hypervisor --kernel %q --initramfs %q \
  --cmdline "%s $*" --cpus boot=1 --memory size=256M \
  --net tap=tap0 --rng --serial tty --console off
`, kernel, initrd, guestCmdline))
}
