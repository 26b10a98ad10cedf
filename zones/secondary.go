package zones

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Secondary is a zone islet follows from a primary.
type Secondary struct {
	Zone    string // origin, fully qualified, lowercase
	Primary netip.AddrPort
	Key     string // a TSIGKey's Name signing the transfers, or ""
}

// ParseSecondary reads ZONE=ADDR:PORT[@KEYNAME].
func ParseSecondary(s string) (Secondary, error) {
	zone, primary, ok := strings.Cut(s, "=")
	if _, isName := dns.IsDomainName(zone); !ok || zone == "" || !isName {
		return Secondary{}, fmt.Errorf("%q: want ZONE=ADDR:PORT[@KEYNAME]", s)
	}
	t, err := ParseNotifyTarget(primary)
	if err != nil {
		return Secondary{}, fmt.Errorf("%q: want ZONE=ADDR:PORT[@KEYNAME]: %w", s, err)
	}
	return Secondary{Zone: strings.ToLower(dns.Fqdn(zone)), Primary: t.Addr, Key: t.Key}, nil
}

// follower is the state of one secondary zone.
type follower struct {
	sec    Secondary
	notify chan struct{} // a NOTIFY came: refresh now
	zone   *Zone         // served now, nil before the first transfer; under Server.swapMu
}

// Until the first SOA of a zone is known, and as the floor of what a
// SOA says, refreshes are tried this often; a transfer may take this
// long in all.
const (
	firstRetry       = 10 * time.Second
	minRefresh       = 5 * time.Second
	transferDeadline = 10 * time.Minute
)

// Follow keeps the zones of secs up to date from their primaries until
// ctx ends: each is loaded from dir (where it was kept the last time)
// and served, then refreshed when its SOA's refresh time has passed or
// its primary sends a NOTIFY, by IXFR, or AXFR when IXFR fails, signed
// with its key when it has one. A failed refresh is tried again after
// the SOA's retry time; a zone not refreshed for its expire time
// answers SERVFAIL until it is. A transfer that fails, does not verify
// or makes an invalid zone leaves the data served before, and is logged.
// dir "" keeps nothing across restarts.
func (s *Server) Follow(ctx context.Context, secs []Secondary, dir string) error {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("zones: secondary: %w", err)
		}
	}
	var fs []*follower
	s.swapMu.Lock()
	for _, sec := range secs {
		f := &follower{sec: sec, notify: make(chan struct{}, 1)}
		s.followers[sec.Zone] = f
		fs = append(fs, f)
	}
	s.swapMu.Unlock()
	done := make(chan struct{}, len(secs))
	for _, f := range fs {
		go func() {
			s.follow(ctx, f, dir)
			done <- struct{}{}
		}()
	}
	for range secs {
		<-done
	}
	return nil
}

// follow runs one secondary zone.
func (s *Server) follow(ctx context.Context, f *follower, dir string) {
	log := s.log.With("zone", f.sec.Zone, "primary", f.sec.Primary)
	file := ""
	if dir != "" {
		file = zoneFileName(dir, "secondary-", f.sec.Zone, ".zone")
	}
	var z *Zone
	var refreshed time.Time
	if file != "" {
		if kept, at, err := readZoneFile(f.sec.Zone, file); err != nil {
			log.Warn("the copy kept of the zone is not served", "file", file, "err", err)
		} else if kept != nil {
			z, refreshed = kept, at
			s.swapFollowed(f, z)
			log.Info("secondary zone served from its copy", "serial", z.Serial(), "refreshed", at.Format(time.RFC3339))
		}
	}
	wait := time.Duration(0)
	for {
		if z != nil {
			expire := time.Duration(z.soa.Expire) * time.Second
			if left := time.Until(refreshed.Add(expire)); left <= 0 {
				if !z.expired.Swap(true) {
					log.Error("secondary zone expired: its names answer SERVFAIL until a refresh succeeds", "serial", z.Serial(), "expire", expire)
				}
			} else {
				wait = min(wait, left)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-f.notify:
			log.Debug("NOTIFY: refreshing now")
		case <-time.After(wait):
		}
		next, err := s.refresh(ctx, f, z, file, log)
		switch {
		case err != nil:
			log.Warn("refresh failed; the data served before stays", "err", err)
			s.observeRefresh(f.sec.Zone, RefreshFailed)
			wait = firstRetry
			if z != nil {
				wait = max(minRefresh, time.Duration(z.soa.Retry)*time.Second)
			}
		default:
			if next == z {
				s.observeRefresh(f.sec.Zone, RefreshCurrent)
			} else {
				s.observeRefresh(f.sec.Zone, RefreshTransferred)
			}
			z, refreshed = next, time.Now()
			wait = max(minRefresh, time.Duration(z.soa.Refresh)*time.Second)
		}
		wait += rand.N(wait/10 + 1) // secondaries of one primary spread out
	}
}

// refresh asks the primary for the zone's SOA and, when its serial is
// newer than cur's (or there is no cur), transfers the zone, serves it
// and keeps it in file. It returns the zone served after it.
func (s *Server) refresh(followCtx context.Context, f *follower, cur *Zone, file string, log *slog.Logger) (*Zone, error) {
	ctx, cancel := context.WithTimeout(followCtx, transferDeadline)
	defer cancel()
	key := s.keys[f.sec.Key]
	soa, err := s.primarySOA(ctx, f.sec, key)
	if err != nil {
		return nil, err
	}
	if cur != nil && (soa.Serial == cur.soa.Serial || soa.Serial-cur.soa.Serial >= 1<<31) {
		cur.expired.Store(false)
		if file != "" {
			// the kept copy's time is when it was last known current
			now := time.Now()
			os.Chtimes(file, now, now)
		}
		return cur, nil
	}
	var rrs []dns.RR
	kind := "AXFR"
	if cur != nil {
		var changes int
		if rrs, changes, err = s.transferIn(ctx, f.sec, key, cur); err == nil {
			kind = fmt.Sprintf("IXFR, %d changes", changes)
			if changes < 0 {
				kind = "IXFR answered with the whole zone"
			}
		} else {
			log.Info("IXFR failed; trying AXFR", "err", err)
		}
	}
	if rrs == nil {
		if rrs, _, err = s.transferIn(ctx, f.sec, key, nil); err != nil {
			return nil, err
		}
	}
	source := fmt.Sprintf("%s from %s", kind, f.sec.Primary)
	z, diags, err := Build(f.sec.Zone, source, rrs)
	if err != nil {
		return nil, fmt.Errorf("%s makes an invalid zone: %w", source, err)
	}
	for _, d := range diags {
		log.Info("transferred zone: "+d.String(), "severity", d.Severity)
	}
	if j := s.cfg.Journal; j != nil {
		if _, err := j.Record(cur, z); err != nil {
			log.Warn("IXFR history not kept", "err", err)
		}
	}
	// Told before it is served: whoever sees the new serial finds the
	// transfer in the log.
	log.Info("secondary zone transferred", "type", kind, "serial", z.Serial(), "records", z.Records())
	s.swapFollowed(f, z)
	if file != "" {
		if err := writeZoneFile(z, file); err != nil {
			log.Warn("the zone is served but not kept for a restart", "err", err)
		}
	}
	go s.Notify(followCtx, []*Zone{z})
	return z, nil
}

// primarySOA asks the primary for the zone's SOA over UDP, then TCP
// when the answer is truncated.
func (s *Server) primarySOA(ctx context.Context, sec Secondary, key *TSIGKey) (*dns.SOA, error) {
	m := new(dns.Msg).SetQuestion(sec.Zone, dns.TypeSOA)
	var r *dns.Msg
	for _, network := range []string{"udp", "tcp"} {
		conn, err := s.dial(ctx, network, sec.Primary.String())
		if err != nil {
			return nil, err
		}
		c := &dns.Client{Net: network, Timeout: 5 * time.Second}
		co := &dns.Conn{Conn: conn}
		if key != nil {
			m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
			c.TsigSecret = map[string]string{key.Name: key.Secret}
			co.TsigSecret = c.TsigSecret
		}
		r, _, err = c.ExchangeWithConnContext(ctx, m, co)
		conn.Close()
		if err != nil {
			return nil, fmt.Errorf("SOA query: %w", err)
		}
		if !r.Truncated {
			break
		}
		m.Extra = nil
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("SOA query: %s", dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, sec.Zone) {
			return soa, nil
		}
	}
	return nil, errors.New("SOA query: no SOA in the answer")
}

// transferIn transfers the zone: by IXFR from cur's serial when cur is
// set, else by AXFR. It returns the zone's records (an IXFR's
// differences applied to cur's), the SOA first, and how many
// differences an IXFR brought (-1: the whole zone).
func (s *Server) transferIn(ctx context.Context, sec Secondary, key *TSIGKey, cur *Zone) ([]dns.RR, int, error) {
	m := new(dns.Msg)
	if cur != nil {
		m.SetIxfr(sec.Zone, cur.soa.Serial, cur.soa.Ns, cur.soa.Mbox)
	} else {
		m.SetAxfr(sec.Zone)
	}
	conn, err := s.dial(ctx, "tcp", sec.Primary.String())
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	t := &dns.Transfer{Conn: &dns.Conn{Conn: conn}}
	if key != nil {
		m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
		t.TsigSecret = map[string]string{key.Name: key.Secret}
		t.Conn.TsigSecret = t.TsigSecret
	}
	env, err := t.In(m, sec.Primary.String())
	if err != nil {
		return nil, 0, err
	}
	var rrs []dns.RR
	var failed error
	for e := range env {
		if e.Error != nil && failed == nil {
			failed = e.Error
		}
		rrs = append(rrs, e.RR...)
	}
	if failed != nil {
		return nil, 0, fmt.Errorf("transfer: %w", failed)
	}
	if cur == nil {
		if len(rrs) < 2 {
			return nil, 0, errors.New("AXFR: fewer than two records")
		}
		return rrs[:len(rrs)-1], -1, nil
	}
	return applyIXFR(cur.RRs(), rrs)
}

// applyIXFR applies an IXFR answer to the zone's records: either the
// whole zone (an AXFR-style answer) or differences (RFC 1995 §4). The
// records it returns are its own; changes is the number of differences,
// -1 for a whole zone.
func applyIXFR(zone, rrs []dns.RR) (out []dns.RR, changes int, err error) {
	if len(rrs) < 2 {
		return nil, 0, errors.New("IXFR: fewer than two records")
	}
	first, ok := rrs[0].(*dns.SOA)
	if !ok {
		return nil, 0, errors.New("IXFR: the answer does not start with a SOA")
	}
	if _, ok := rrs[1].(*dns.SOA); !ok {
		return rrs[:len(rrs)-1], -1, nil // the whole zone
	}
	key := recordKey
	set := map[string]dns.RR{}
	for _, rr := range zone {
		if rr.Header().Rrtype != dns.TypeSOA {
			// copies: Build changes the records it is given, and these
			// are being served
			set[key(rr)] = dns.Copy(rr)
		}
	}
	// each difference: its old SOA, deletions, its new SOA, additions
	adding := true
	for _, rr := range rrs[1 : len(rrs)-1] {
		if _, isSOA := rr.(*dns.SOA); isSOA {
			adding = !adding
			if adding {
				changes++
			}
			continue
		}
		if adding {
			set[key(rr)] = rr
		} else {
			delete(set, key(rr))
		}
	}
	if !adding {
		return nil, 0, errors.New("IXFR: the differences end inside one")
	}
	out = make([]dns.RR, 0, len(set)+1)
	out = append(out, first)
	for _, rr := range set {
		out = append(out, rr)
	}
	return out, changes, nil
}

// dial opens a connection over cfg.Dial, or the host's sockets.
func (s *Server) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.cfg.Dial != nil {
		return s.cfg.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// swapFollowed serves z, the new version of f's zone.
func (s *Server) swapFollowed(f *follower, z *Zone) {
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	f.zone = z
	s.set.Store(s.set.Load().With(z))
}

// notifyQuery answers a NOTIFY request, signed when it was.
func (s *Server) notifyQuery(pkt, out []byte, client netip.Addr) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(pkt); err != nil {
		return nil
	}
	var check *tsigCheck
	if m.IsTsig() != nil && len(s.keys) > 0 {
		c := s.verifyTSIG(pkt, m)
		check = &c
	}
	r := s.notifyIn(m, client, check)
	var wire []byte
	var err error
	if check != nil {
		wire, _, err = check.sign(r, "", false)
	} else {
		wire, err = r.Pack()
	}
	if err != nil {
		return nil
	}
	return append(out[:0], wire...)
}

// notifyIn answers a NOTIFY (RFC 1996), whose TSIG check found check
// (nil: unsigned): from a zone's primary (signed with its key when it
// has one), it starts a refresh and gets NOERROR;
// for a zone islet does not follow, NOTAUTH; from anyone else, REFUSED.
func (s *Server) notifyIn(m *dns.Msg, client netip.Addr, check *tsigCheck) *dns.Msg {
	r := new(dns.Msg)
	if len(m.Question) != 1 {
		return r.SetRcode(m, dns.RcodeFormatError)
	}
	s.swapMu.Lock()
	f := s.followers[strings.ToLower(dns.Fqdn(m.Question[0].Name))]
	s.swapMu.Unlock()
	if f == nil {
		return r.SetRcode(m, dns.RcodeNotAuth)
	}
	signedBy := ""
	if check != nil && check.error == 0 {
		signedBy = check.key.Name
	}
	if client.Unmap() != f.sec.Primary.Addr().Unmap() || signedBy != f.sec.Key {
		s.log.Info("NOTIFY refused", "zone", f.sec.Zone, "client", client, "key", signedBy)
		return r.SetRcode(m, dns.RcodeRefused)
	}
	select {
	case f.notify <- struct{}{}:
	default: // a refresh is already asked for
	}
	r.SetReply(m)
	r.Authoritative = true
	return r
}

// following reports whether Follow runs: NOTIFY is answered then.
func (s *Server) following() bool {
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	return len(s.followers) > 0
}
