package zones

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/ipv4"
)

const (
	udpBatch   = 64   // datagrams per recvmmsg/sendmmsg
	udpReadBuf = 4096 // larger queries are cut short and get FORMERR
)

// ServePacket answers queries arriving on pc until ctx ends; it does not
// close pc. On a host UDP socket it reads and writes in batches
// (recvmmsg/sendmmsg); on any other PacketConn (a userspace stack) one
// datagram at a time. Run one per socket: with SO_REUSEPORT sockets,
// one per core.
func (s *Server) ServePacket(ctx context.Context, pc net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var err error
	if uc, ok := pc.(*net.UDPConn); ok {
		err = s.serveBatches(uc)
	} else {
		err = s.serveSingles(pc)
	}
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("dns: serve udp: %w", err)
}

func (s *Server) serveSingles(pc net.PacketConn) error {
	sc := newScratch()
	in := make([]byte, udpReadBuf)
	out := make([]byte, 0, 4096)
	for {
		n, addr, err := pc.ReadFrom(in)
		if err != nil {
			if isTemporary(err) {
				continue
			}
			return err
		}
		resp := s.handle(in[:n], out, sc, addrOf(addr), false)
		if resp != nil {
			pc.WriteTo(resp, addr) // a lost reply is the client's to retry
		}
	}
}

func (s *Server) serveBatches(uc *net.UDPConn) error {
	// ipv4.PacketConn's batch calls are plain recvmmsg/sendmmsg and
	// work on IPv6 sockets too.
	pc := ipv4.NewPacketConn(uc)
	sc := newScratch()
	in := make([]ipv4.Message, udpBatch)
	out := make([]ipv4.Message, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, udpReadBuf)}
		out[i].Buffers = [][]byte{make([]byte, 0, 4096)}
	}
	bufs := make([][]byte, udpBatch)
	for i := range bufs {
		bufs[i] = out[i].Buffers[0]
	}
	for {
		n, err := pc.ReadBatch(in, 0)
		if err != nil {
			if isTemporary(err) {
				continue
			}
			return err
		}
		k := 0
		for i := 0; i < n; i++ {
			m := &in[i]
			resp := s.handle(m.Buffers[0][:m.N], bufs[k], sc, addrOf(m.Addr), false)
			if resp == nil {
				continue
			}
			out[k].Buffers[0] = resp
			out[k].Addr = m.Addr
			k++
		}
		for sent := 0; sent < k; {
			w, err := pc.WriteBatch(out[sent:k], 0)
			if err != nil {
				sent++ // skip the datagram that failed (e.g. unreachable)
				continue
			}
			sent += w
		}
	}
}

func addrOf(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// isTemporary tells read errors worth another try (ENOBUFS, ICMP noise)
// from the end of the socket: closed, or the deadline set on shutdown.
func isTemporary(err error) bool {
	return !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded)
}
