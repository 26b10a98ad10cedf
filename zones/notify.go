package zones

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// NotifyTarget is a secondary told when a zone changes.
type NotifyTarget struct {
	Addr netip.AddrPort
	Key  string // a TSIGKey's Name signing the NOTIFY, or ""
}

// ParseNotifyTarget reads ADDR:PORT[@KEYNAME] ([ADDR]:PORT for IPv6).
func ParseNotifyTarget(s string) (NotifyTarget, error) {
	a, key, _ := strings.Cut(s, "@")
	ap, err := netip.ParseAddrPort(a)
	if err != nil {
		return NotifyTarget{}, fmt.Errorf("%q: want ADDR:PORT[@KEYNAME]: %w", s, err)
	}
	t := NotifyTarget{Addr: ap}
	if key != "" {
		t.Key = strings.ToLower(dns.Fqdn(key))
	}
	return t, nil
}

// Notifications are retried this many times in all, waiting twice as
// long each time, as NSD does; at most notifyInFlight go at once.
const (
	notifyTries    = 5
	notifyTimeout  = time.Second
	notifyInFlight = 32
)

// notifier keeps the notifications under way, so that a newer one for
// the same zone and secondary replaces an older one.
type notifier struct {
	mu      sync.Mutex
	pending map[string]context.CancelFunc // zone origin + " " + target
	slots   chan struct{}
}

// Notify tells the secondaries of zs that the zones changed (RFC 1996)
// and returns once every one has answered, been given up on, been
// superseded by a newer Notify, or ctx ends. The secondaries are
// Config.Notify, and the addresses of each zone's name servers found in
// the zone when Config.NotifyNS is set and transfers are allowed.
func (s *Server) Notify(ctx context.Context, zs []*Zone) {
	n := &s.notifier
	n.mu.Lock()
	if n.pending == nil {
		n.pending = map[string]context.CancelFunc{}
		n.slots = make(chan struct{}, notifyInFlight)
	}
	n.mu.Unlock()
	var wg sync.WaitGroup
	for _, z := range zs {
		for _, t := range s.notifyTargets(z) {
			id := z.Origin + " " + t.Addr.String()
			nctx, cancel := context.WithCancel(ctx)
			n.mu.Lock()
			if prev := n.pending[id]; prev != nil {
				prev()
			}
			n.pending[id] = cancel
			n.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.notifyOne(nctx, z, t)
				n.mu.Lock()
				if nctx.Err() == nil {
					delete(n.pending, id)
				}
				n.mu.Unlock()
				cancel()
			}()
		}
	}
	wg.Wait()
}

// notifyTargets are the secondaries to tell of z.
func (s *Server) notifyTargets(z *Zone) []NotifyTarget {
	out := append([]NotifyTarget(nil), s.cfg.Notify...)
	if !s.cfg.NotifyNS || len(s.cfg.AllowTransfer) == 0 {
		return out
	}
	seen := map[netip.AddrPort]bool{}
	for _, t := range out {
		seen[t.Addr] = true
	}
	for _, rr := range z.apex.rrset(dns.TypeNS) {
		w, err := wireName(rr.(*dns.NS).Ns)
		if err != nil {
			continue
		}
		host := z.nodes[w]
		if host == nil {
			continue
		}
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			for _, a := range host.rrset(t) {
				var ip netip.Addr
				switch v := a.(type) {
				case *dns.A:
					ip, _ = netip.AddrFromSlice(v.A.To4())
				case *dns.AAAA:
					ip, _ = netip.AddrFromSlice(v.AAAA)
				}
				ap := netip.AddrPortFrom(ip, 53)
				if ip.IsValid() && !seen[ap] {
					seen[ap] = true
					out = append(out, NotifyTarget{Addr: ap})
				}
			}
		}
	}
	return out
}

// notifyOne sends z's NOTIFY to t until it is answered or notifyTries
// have gone unanswered.
func (s *Server) notifyOne(ctx context.Context, z *Zone, t NotifyTarget) {
	n := &s.notifier
	select {
	case n.slots <- struct{}{}:
		defer func() { <-n.slots }()
	case <-ctx.Done():
		return
	}
	key := s.keys[t.Key]
	wait := notifyTimeout
	var err error
	for try := 1; try <= notifyTries; try++ {
		var r *dns.Msg
		if r, err = s.sendNotify(ctx, z, t, key); err == nil {
			if r.Rcode != dns.RcodeSuccess {
				s.log.Info("NOTIFY answered with an error", "zone", z.Origin, "secondary", t.Addr, "rcode", dns.RcodeToString[r.Rcode])
			} else {
				s.log.Debug("NOTIFY answered", "zone", z.Origin, "secondary", t.Addr, "serial", z.soa.Serial, "try", try)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
	s.log.Warn("NOTIFY unanswered; giving up", "zone", z.Origin, "secondary", t.Addr, "tries", notifyTries, "err", err)
}

// sendNotify sends one NOTIFY for z to t, signed with key when it is
// set, and waits notifyTimeout for the answer.
func (s *Server) sendNotify(ctx context.Context, z *Zone, t NotifyTarget, key *TSIGKey) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetNotify(z.Origin)
	m.Answer = []dns.RR{z.soa}
	c := &dns.Client{Net: "udp", Timeout: notifyTimeout}
	if key != nil {
		m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
		c.TsigSecret = map[string]string{key.Name: key.Secret}
	}
	dial := s.cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	conn, err := dial(dctx, "udp", t.Addr.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	r, _, err := c.ExchangeWithConnContext(dctx, m, &dns.Conn{Conn: conn, TsigSecret: c.TsigSecret})
	return r, err
}
