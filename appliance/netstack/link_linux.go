//go:build linux

package netstack

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
)

// TAP opens (creating it if missing) the TAP device name and runs the
// link on it. The kernel side of the device is brought up; give it an
// address (or move it into a network namespace) to talk to the stack.
// A TAP descriptor is not a socket: frames are read with readv, one at a
// time, and without host GSO; it is for convenience, not speed.
func TAP(name string) (*Link, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("netstack: tap %s: %w", name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netstack: tap %s: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netstack: tap %s: TUNSETIFF: %w", name, err)
	}
	if err := setUp(name); err != nil {
		unix.Close(fd)
		return nil, err
	}
	l := &Link{name: "tap:" + name, release: func() { unix.Close(fd) }, failed: make(chan string, 1)}
	ep, err := fdbased.New(&fdbased.Options{FDs: []int{fd}, MTU: mtuOf(name), EthernetHeader: true, Address: randomMAC(), ClosedFunc: l.closed})
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netstack: tap %s: %w", name, err)
	}
	l.ep = ep
	l.stop = func() { ep.Attach(nil) }
	return l, nil
}

// Packet runs the link on a raw AF_PACKET socket bound to the NIC
// ifname, which should have no kernel address: the stack answers ARP and
// IP for its own addresses with the NIC's MAC. The socket is bound
// before the link is brought up, so no early frame is lost, and the
// kernel's IPv6 on the NIC is turned off so that it stays silent on the
// wire (no autoconfiguration, no neighbour discovery of its own), and
// back on, if it was, when the link is released.
func Packet(ifname string) (*Link, error) {
	iface, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("netstack: packet %s: %w", ifname, err)
	}
	proto := htons(unix.ETH_P_ALL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return nil, fmt.Errorf("netstack: packet %s: socket: %w", ifname, err)
	}
	v6conf := "/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6"
	v6was, _ := os.ReadFile(v6conf) // best effort: no IPv6 in the kernel, no file
	giveV6Back := func() {
		if len(v6was) > 0 {
			os.WriteFile(v6conf, v6was, 0o644)
		}
	}
	fail := func(err error) (*Link, error) {
		unix.Close(fd)
		giveV6Back()
		return nil, fmt.Errorf("netstack: packet %s: %w", ifname, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: iface.Index}); err != nil {
		return fail(err)
	}
	// Frames this socket sends are not read back.
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fail(err)
	}
	// Host GSO: each frame carries a virtio-net header, so that the stack
	// hands the kernel 64 KiB TCP segments to cut (and receives them
	// whole); without it bulk TCP crawled at 0.02 of the kernel stack's
	// throughput on veth (bench/netstack.sh).
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
		return fail(err)
	}
	os.WriteFile(v6conf, []byte("1"), 0o644) // best effort
	if err := setUp(ifname); err != nil {
		return fail(err)
	}
	// Binding to a link that is down leaves ENETDOWN pending on the
	// socket, which the first read would return and the link endpoint
	// would take as fatal: collect it now that the link is up.
	unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	// fdbased writes (host GSO) on a second socket bound with protocol
	// 0, which receives nothing; the first is read by packetReader.
	wfd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail(fmt.Errorf("netstack: socket: %w", err))
	}
	failW := func(err error) (*Link, error) {
		unix.Close(wfd)
		return fail(err)
	}
	if err := unix.Bind(wfd, &unix.SockaddrLinklayer{Ifindex: iface.Index}); err != nil {
		return failW(err)
	}
	if err := unix.SetsockoptInt(wfd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
		return failW(err)
	}
	l := &Link{name: "packet:" + ifname, failed: make(chan string, 1)}
	ep, err := fdbased.New(&fdbased.Options{
		ClosedFunc: l.closed,
		FDs:        []int{wfd},
		// A packet socket with no protocol takes no fanout: fdbased
		// must not try to set one up.
		PreConfigured:  true,
		IsPacketSocket: []bool{true},
		MTU:            uint32(iface.MTU),
		EthernetHeader: true,
		Address:        tcpip.LinkAddress(iface.HardwareAddr),
		GSOMaxSize:     65536,
		// The kernel leaves checksums of locally made frames (veth,
		// virtio with offload) to the receiver.
		RXChecksumOffload: true,
	})
	if err != nil {
		return failW(err)
	}
	w, err := newPacketWriter(wfd, ep)
	if err != nil { // wfd is closed
		return fail(err)
	}
	r, err := newPacketReader(fd, w, l.readFailed)
	if err != nil { // fd is closed
		w.close()
		giveV6Back()
		return nil, fmt.Errorf("netstack: packet %s: %w", ifname, err)
	}
	l.ep = r
	l.thinned = &r.thinned
	l.stop = func() { r.Attach(nil) }
	l.release = func() { r.close(); w.close(); giveV6Back() }
	return l, nil
}

// setUp sets IFF_UP on a link.
func setUp(name string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netstack: up %s: %w", name, err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("netstack: up %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netstack: up %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("netstack: up %s: %w", name, err)
	}
	return nil
}

func mtuOf(name string) uint32 {
	if iface, err := net.InterfaceByName(name); err == nil && iface.MTU > 0 {
		return uint32(iface.MTU)
	}
	return 1500
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// readFailed is called by a packetReader that stops reading.
func (l *Link) readFailed(why string) {
	select {
	case l.failed <- why:
	default:
	}
}

// closed is called by the link endpoint when it stops reading.
func (l *Link) closed(err tcpip.Error) {
	if err == nil {
		return // stopped on purpose
	}
	l.readFailed(err.String())
}
