package netstack

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// wildUDP is a UDP socket on the unspecified IPv6 address: it takes the
// datagrams sent to any of the stack's IPv6 addresses (its static one,
// its link-local one, those SLAAC makes and retires) and answers each
// from the address it was sent to, as a server on a host's [::] does
// with IPV6_PKTINFO: a DNS client takes a reply only from the address
// it asked. ReadFrom's address (a udpPeer) carries both ends, and
// WriteTo to it sends from the local one.
type wildUDP struct {
	ep       tcpip.Endpoint
	wq       *waiter.Queue
	entry    waiter.Entry
	readable chan struct{}
	rdl      readDeadline
	closed   chan struct{}
	once     sync.Once
	local    *net.UDPAddr
}

// udpPeer is where a datagram came from, and the stack's address it
// was sent to.
type udpPeer struct {
	remote netip.AddrPort
	local  tcpip.Address
}

func (p *udpPeer) Network() string { return "udp" }
func (p *udpPeer) String() string  { return p.remote.String() }

func listenWildUDP(s *stack.Stack, port uint16) (*wildUDP, error) {
	wq := new(waiter.Queue)
	ep, terr := s.NewEndpoint(udp.ProtocolNumber, ipv6.ProtocolNumber, wq)
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	ep.SocketOptions().SetV6Only(true)
	ep.SocketOptions().SetIPv6ReceivePacketInfo(true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: nicID, Port: port}); terr != nil {
		ep.Close()
		return nil, fmt.Errorf("netstack: bind: %s", terr)
	}
	c := &wildUDP{ep: ep, wq: wq, readable: make(chan struct{}, 1), closed: make(chan struct{}),
		local: &net.UDPAddr{IP: net.IPv6unspecified, Port: int(port)}}
	if a, terr := ep.GetLocalAddress(); terr == nil {
		c.local.Port = int(a.Port)
	}
	c.entry.Init(waiter.ChannelNotifier(c.readable), waiter.ReadableEvents)
	wq.EventRegister(&c.entry)
	c.rdl.init(func() { poke(c.readable) })
	return c, nil
}

// ReadFrom reads one datagram, waiting for one until the read deadline.
func (c *wildUDP) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		select {
		case <-c.closed:
			return 0, nil, net.ErrClosed
		default:
		}
		if c.rdl.gone.Load() {
			return 0, nil, os.ErrDeadlineExceeded
		}
		w := tcpip.SliceWriter(b)
		res, terr := c.ep.Read(&w, tcpip.ReadOptions{NeedRemoteAddr: true})
		switch terr.(type) {
		case nil:
			// No zone on a link-local sender: the stack has one link,
			// and the fast path gives none either.
			from, _ := netip.AddrFromSlice(res.RemoteAddr.Addr.AsSlice())
			p := &udpPeer{remote: netip.AddrPortFrom(from, res.RemoteAddr.Port)}
			if res.ControlMessages.HasIPv6PacketInfo {
				p.local = res.ControlMessages.IPv6PacketInfo.Addr
			}
			return res.Count, p, nil
		case *tcpip.ErrWouldBlock:
			select {
			case <-c.readable:
			case <-c.closed:
				return 0, nil, net.ErrClosed
			}
		default:
			return 0, nil, &net.OpError{Op: "read", Net: "udp", Addr: c.local, Err: errors.New(terr.String())}
		}
	}
}

// WriteTo sends b to addr: from the address a datagram came to when
// addr is the one ReadFrom gave with it.
func (c *wildUDP) WriteTo(b []byte, addr net.Addr) (int, error) {
	var to netip.AddrPort
	opts := tcpip.WriteOptions{}
	switch a := addr.(type) {
	case *udpPeer:
		to = a.remote
		if a.local.BitLen() != 0 {
			opts.ControlMessages.HasIPv6PacketInfo = true
			opts.ControlMessages.IPv6PacketInfo = tcpip.IPv6PacketInfo{Addr: a.local, NIC: nicID}
		}
	case *net.UDPAddr:
		to = a.AddrPort()
	default:
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: errors.New("not a UDP address")}
	}
	if !to.Addr().Is6() || to.Addr().Is4In6() {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: errors.New("not an IPv6 address")}
	}
	opts.To = &tcpip.FullAddress{NIC: nicID, Addr: tcpip.AddrFrom16(to.Addr().As16()), Port: to.Port()}
	n, terr := c.ep.Write(bytes.NewReader(b), opts)
	if terr != nil {
		return int(n), &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: errors.New(terr.String())}
	}
	return int(n), nil
}

// Close closes the socket and ends waiting reads.
func (c *wildUDP) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.wq.EventUnregister(&c.entry)
		c.ep.Close()
	})
	return nil
}

func (c *wildUDP) LocalAddr() net.Addr { return c.local }

// SetReadDeadline applies to reads; writes do not wait.
func (c *wildUDP) SetReadDeadline(t time.Time) error {
	c.rdl.set(t)
	return nil
}

func (c *wildUDP) SetWriteDeadline(time.Time) error { return nil }

func (c *wildUDP) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }
