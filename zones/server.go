package zones

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"islet.dev/islet/internal/fair"
)

// Config is how a Server answers. The zero value is usable: defaults are
// filled in by New.
type Config struct {
	// MaxUDPSize caps the EDNS(0) UDP payload of responses (RFC 6891);
	// 1232 by default (the DNS flag day 2020 value), 512 to 4096.
	MaxUDPSize int
	// Minimal leaves the zone's NS RRset and its addresses out of
	// positive answers, as Knot does; NSD's fuller answers are the
	// default.
	Minimal bool
	// NSID is returned to queries that ask for it (RFC 5001); empty
	// means off.
	NSID string
	// Chaos answers CHAOS TXT id.server/hostname.bind with Identity and
	// version.bind/version.server with Version; off by default (REFUSED).
	Chaos    bool
	Identity string
	Version  string
	// CookieSecret keys server cookies (RFC 7873); random when zero.
	// Anycast or round-robin servers should share one.
	CookieSecret [16]byte
	// TCPIdleTimeout closes TCP connections idle that long (RFC 7766
	// §6.2.3); 10 s by default.
	TCPIdleTimeout time.Duration
	// TCPMaxConns bounds concurrent TCP connections; 512 by default. At
	// the cap a new client's connection is taken from the client holding
	// the most, and idle connections are closed sooner the fuller it is.
	TCPMaxConns int
	// TCPClientConns bounds one client's TCP connections (0:
	// TCPMaxConns/8, 8 to 64); a client is an IPv4 address and an IPv6
	// /64 unless ClientIPv4Bits and ClientIPv6Bits say otherwise.
	TCPClientConns                 int
	ClientIPv4Bits, ClientIPv6Bits int
	Logger                         *slog.Logger

	// TSIGKeys are the keys requests may be signed with (RFC 8945); a
	// signed request is answered signed. Without keys, a signed request
	// gets NOTAUTH.
	TSIGKeys []TSIGKey
	// AllowTransfer lists who may transfer the zones (AXFR and IXFR);
	// nobody when empty.
	AllowTransfer []TransferACL
	// Notify lists the secondaries told of every zone loaded or
	// changed (RFC 1996), besides the zones' own name servers when
	// NotifyNS is set and transfers are allowed to anyone.
	Notify   []NotifyTarget
	NotifyNS bool
	// Journal has the zones' history for IXFR; nil: IXFR from an older
	// serial gets the whole zone.
	Journal *Journal
	// RRL limits the rate of responses over UDP per client prefix
	// (rrl.go); off when its Rate is 0.
	RRL RRLConfig
	// Signer, when set, signs the zones it signs again as their
	// signatures age (KeepSigned) and as ACME challenge records come
	// and go. The zones must have been signed by it before New.
	Signer *Signer
	// Observer, when set, is told of every query, transfer and
	// refresh (observe.go), for metrics.
	Observer Observer
	// Dial opens the UDP sockets NOTIFY goes out on (the userspace
	// stack's, in the guest); net.Dialer's when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultTCPMaxConns is Config.TCPMaxConns when it is zero.
const DefaultTCPMaxConns = 512

// Server answers DNS queries over UDP and TCP from a Set of zones. The
// Set can be swapped at any time; a query sees either the old or the new
// one, never a mix. Methods are safe for concurrent use.
type Server struct {
	cfg    Config
	set    atomic.Pointer[Set]
	conns  *fair.Limiter // TCP connections, of every listener
	warned atomic.Int64  // unix seconds of the last warning that it is full
	log    *slog.Logger

	// ACME DNS-01 records (challenge.go), by lowercase wire name; nil
	// when none, so the query path pays one atomic load.
	challenges atomic.Pointer[map[string][]string]
	chmu       sync.Mutex

	swapMu    sync.Mutex           // orders Swap and the followers' swaps
	followers map[string]*follower // secondary zones by origin, under swapMu
	keys      map[string]*TSIGKey  // by lowercase name
	transfers chan struct{}        // a slot per transfer being served
	notifier  notifier
	rrl       *rrl // nil: no limit
}

// New checks cfg and returns a Server answering from set. It does no I/O.
func New(cfg Config, set *Set) (*Server, error) {
	if set == nil {
		return nil, fmt.Errorf("zones: new server: no zones")
	}
	if cfg.MaxUDPSize == 0 {
		cfg.MaxUDPSize = 1232
	}
	if cfg.MaxUDPSize < 512 || cfg.MaxUDPSize > 4096 {
		return nil, fmt.Errorf("zones: new server: EDNS UDP size %d is not within 512..4096", cfg.MaxUDPSize)
	}
	if len(cfg.NSID) > 512 {
		return nil, fmt.Errorf("zones: new server: NSID longer than 512 octets")
	}
	if cfg.TCPIdleTimeout == 0 {
		cfg.TCPIdleTimeout = 10 * time.Second
	}
	if cfg.TCPMaxConns == 0 {
		cfg.TCPMaxConns = DefaultTCPMaxConns
	}
	if cfg.CookieSecret == [16]byte{} {
		if _, err := rand.Read(cfg.CookieSecret[:]); err != nil {
			return nil, fmt.Errorf("zones: new server: cookie secret: %w", err)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "dns"), keys: map[string]*TSIGKey{}, transfers: make(chan struct{}, maxTransfers),
		followers: map[string]*follower{}}
	for i, k := range cfg.TSIGKeys {
		if _, dup := s.keys[k.Name]; dup {
			return nil, fmt.Errorf("zones: new server: TSIG key %s given twice", k.Name)
		}
		s.keys[k.Name] = &cfg.TSIGKeys[i]
	}
	for _, a := range cfg.AllowTransfer {
		if _, ok := s.keys[a.Key]; a.Key != "" && !ok {
			return nil, fmt.Errorf("zones: new server: transfers allowed to %s with key %s, which is not given", a.Prefix, a.Key)
		}
	}
	if cfg.Signer != nil && cfg.Signer.Compact() && len(cfg.AllowTransfer) > 0 {
		return nil, fmt.Errorf("zones: new server: compact denial signs per query, which secondaries cannot do: allow no transfers, or deny with nsec or nsec3")
	}
	for _, n := range cfg.Notify {
		if _, ok := s.keys[n.Key]; n.Key != "" && !ok {
			return nil, fmt.Errorf("zones: new server: notify %s with key %s, which is not given", n.Addr, n.Key)
		}
	}
	s.conns = fair.New(fair.Config{Max: cfg.TCPMaxConns, PerClient: cfg.TCPClientConns,
		IPv4Bits: cfg.ClientIPv4Bits, IPv6Bits: cfg.ClientIPv6Bits, Idle: cfg.TCPIdleTimeout})
	s.rrl = newRRL(cfg.RRL)
	s.set.Store(set)
	s.warmTransfers(set.Zones())
	return s, nil
}

// Swap makes set the zones answered from now on, with the secondary
// zones Follow keeps, and returns the old one.
func (s *Server) Swap(set *Set) *Set {
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	for _, f := range s.followers {
		if f.zone != nil {
			set = set.With(f.zone)
		}
	}
	s.warmTransfers(set.Zones())
	return s.set.Swap(set)
}

// warmTransfers sorts the names of each zone for a whole transfer in the
// background when transfers are allowed, so that the first AXFR after a
// load, the one a NOTIFY brings, starts as soon as later ones do
// (sorting a million records' names takes about 0.2 s).
func (s *Server) warmTransfers(zs []*Zone) {
	if len(s.cfg.AllowTransfer) == 0 {
		return
	}
	go func() {
		for _, z := range zs {
			z.transferOrder()
		}
	}()
}

// Zones returns the set being answered from.
func (s *Server) Zones() *Set { return s.set.Load() }
