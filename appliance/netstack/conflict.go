package netstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// An IPv4 address is probed before it is used (RFC 5227): ARP requests
// from 0.0.0.0 ask who has it, and a reply means another host does.
// Two probes 100 ms apart, and 100 ms more for a reply: RFC 5227's own
// timing (three probes over one to two seconds, after a wait of up to
// one) would hold every boot for seconds, and a LAN answers in well
// under a millisecond.
const (
	probeTransmits = 2
	probeInterval  = 100 * time.Millisecond
)

// arpProtocol is ARP with the probes above.
func arpProtocol() stack.NetworkProtocolFactory {
	return arp.NewProtocolWithOptions(arp.Options{DADConfigs: stack.DADConfigurations{
		DupAddrDetectTransmits: probeTransmits,
		RetransmitTimer:        probeInterval,
	}})
}

// probe asks the link whether another host has addr. It returns that
// host's hardware address, or nil when none answered.
func (st *Stack) probe(ctx context.Context, addr netip.Addr) (net.HardwareAddr, error) {
	res := make(chan stack.DADResult, 1)
	// The stack calls back with its locks held: hand the result over
	// and return.
	done := func(r stack.DADResult) {
		select {
		case res <- r:
		default:
		}
	}
	disp, terr := st.s.CheckDuplicateAddress(nicID, ipv4.ProtocolNumber, tcpip.AddrFromSlice(addr.AsSlice()), done)
	if terr != nil {
		return nil, fmt.Errorf("netstack: probe %s: %s", addr, terr)
	}
	if disp == stack.DADDisabled {
		return nil, nil
	}
	select {
	case r := <-res:
		switch r := r.(type) {
		case *stack.DADSucceeded:
			return nil, nil
		case *stack.DADDupAddrDetected:
			// A frame of the stack's own that came back (a link
			// that reflects, or a network answering with the
			// asker's address) is no other host.
			if r.HolderLinkAddress == st.s.NICInfo()[nicID].LinkAddress {
				return nil, nil
			}
			return net.HardwareAddr(r.HolderLinkAddress), nil
		case *stack.DADError:
			return nil, fmt.Errorf("netstack: probe %s: %s", addr, r.Err)
		default:
			return nil, fmt.Errorf("netstack: probe %s: stopped", addr)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// checkStatic probes a static address, which is in use already: a
// conflict is the configuration's to mend, so it is reported, not
// acted on. A host that has the address answers the probe, and the
// announcement too.
func (st *Stack) checkStatic(addr netip.Addr) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Close ends the probe
		select {
		case <-st.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	holder, err := st.probe(ctx, addr)
	switch {
	case errors.Is(err, context.Canceled):
	case err != nil:
		st.log.Warn("IPv4 address not checked for conflicts", "addr", addr, "err", err)
	case holder != nil:
		st.log.Error("IPv4 address in use by another host on the link: both will lose packets", "addr", addr, "holder", holder.String())
	default:
		st.log.Debug("IPv4 address probed: no other host has it", "addr", addr)
	}
}
