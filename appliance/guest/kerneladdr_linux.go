//go:build linux

package guest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"islet.dev/islet/appliance"

	"golang.org/x/sys/unix"
)

// kernelAddress gives a link the static addresses and gateways of o on
// the kernel's own stack, through rtnetlink, and brings it and the
// loopback up: what a guest booted with islet.net=host needs before it
// serves on the kernel's sockets. The kernel has no DHCP client, so an
// IPv4 address is required.
func kernelAddress(ifname string, o appliance.NetOptions) error {
	if !o.IPv4.IsValid() {
		return fmt.Errorf("islet.net=host: give islet.ipv4 (the kernel's stack gets no address by DHCP here)")
	}
	iface, err := net.InterfaceByName(ifname)
	if err != nil {
		return fmt.Errorf("kernel address: %w", err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return fmt.Errorf("kernel address: %w", err)
	}
	nl, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("kernel address: netlink: %w", err)
	}
	defer unix.Close(nl)
	for _, i := range []int{lo.Index, iface.Index} {
		if err := rtnetlink(nl, unix.RTM_NEWLINK, 0, linkUp(i)); err != nil {
			return fmt.Errorf("kernel address: %s up: %w", ifname, err)
		}
	}
	for _, p := range []netip.Prefix{o.IPv4, o.IPv6} {
		if !p.IsValid() {
			continue
		}
		if err := rtnetlink(nl, unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, addrMsg(iface.Index, p)); err != nil {
			return fmt.Errorf("kernel address: %s on %s: %w", p, ifname, err)
		}
	}
	for _, gw := range []netip.Addr{o.IPv4Gateway, o.IPv6Gateway} {
		if !gw.IsValid() {
			continue
		}
		if err := rtnetlink(nl, unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, defaultRoute(iface.Index, gw)); err != nil {
			return fmt.Errorf("kernel address: route via %s: %w", gw, err)
		}
	}
	return nil
}

// rtnetlink sends one request and waits for its acknowledgement.
func rtnetlink(fd int, typ uint16, flags int, body []byte) error {
	h := unix.NlMsghdr{
		Len:   uint32(unix.SizeofNlMsghdr + len(body)),
		Type:  typ,
		Flags: uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK | flags),
		Seq:   1,
	}
	msg := append((*[unix.SizeofNlMsghdr]byte)(unsafe.Pointer(&h))[:], body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type != unix.NLMSG_ERROR || m.Header.Seq != 1 {
				continue
			}
			if len(m.Data) < 4 {
				return errors.New("short netlink error message")
			}
			if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
				return unix.Errno(-code)
			}
			return nil
		}
	}
}

func linkUp(index int) []byte {
	m := unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index), Flags: unix.IFF_UP, Change: unix.IFF_UP}
	return (*[unix.SizeofIfInfomsg]byte)(unsafe.Pointer(&m))[:]
}

func addrMsg(index int, p netip.Prefix) []byte {
	m := unix.IfAddrmsg{Family: family(p.Addr()), Prefixlen: uint8(p.Bits()), Index: uint32(index)}
	b := append([]byte(nil), (*[unix.SizeofIfAddrmsg]byte)(unsafe.Pointer(&m))[:]...)
	a := p.Addr().AsSlice()
	b = rtattr(b, unix.IFA_LOCAL, a)
	return rtattr(b, unix.IFA_ADDRESS, a)
}

func defaultRoute(index int, gw netip.Addr) []byte {
	m := unix.RtMsg{Family: family(gw), Table: unix.RT_TABLE_MAIN, Protocol: unix.RTPROT_BOOT, Scope: unix.RT_SCOPE_UNIVERSE, Type: unix.RTN_UNICAST}
	b := append([]byte(nil), (*[unix.SizeofRtMsg]byte)(unsafe.Pointer(&m))[:]...)
	b = rtattr(b, unix.RTA_GATEWAY, gw.AsSlice())
	oif := binary.NativeEndian.AppendUint32(nil, uint32(index))
	return rtattr(b, unix.RTA_OIF, oif)
}

func family(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// rtattr appends a route attribute, padded to four bytes.
func rtattr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(unix.SizeofRtAttr+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
