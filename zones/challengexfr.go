package zones

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// inZoneChallenges reports whether ACME challenge records go into the
// zone's data, a new version of it, rather than beside it: when the
// zones are transferred, so that secondaries serve them too (a CA that
// validates from several places may ask any of the zone's servers), and
// in the zones islet signs, so that they are signed. Zones signed
// elsewhere and zones followed from a primary keep them beside.
func (s *Server) inZoneChallenges(z *Zone) bool {
	if z.signedHere && s.cfg.Signer != nil {
		return true // signed as they appear
	}
	if len(s.cfg.AllowTransfer) == 0 || z.Signed() {
		return false
	}
	s.swapMu.Lock()
	defer s.swapMu.Unlock()
	return s.followers[z.Origin] == nil
}

// editChallenge serves a new version of z with the TXT record value at
// name added (or removed), under a later serial, and tells the
// secondaries. Called with chmu held.
func (s *Server) editChallenge(z *Zone, name, value string, add bool) error {
	name = strings.ToLower(dns.Fqdn(name))
	var rrs []dns.RR
	for _, rr := range z.RRs() {
		if t, ok := rr.(*dns.TXT); ok && !add && strings.EqualFold(t.Hdr.Name, name) && len(t.Txt) == 1 && t.Txt[0] == value && t.Hdr.Ttl == challengeTTL {
			continue
		}
		rrs = append(rrs, dns.Copy(rr)) // Build changes what it is given; these are served
	}
	if add {
		rrs = append(rrs, &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: challengeTTL}, Txt: []string{value}})
	}
	nz, _, err := Build(z.Origin, z.File, rrs)
	if err != nil {
		return fmt.Errorf("zones: publish %s: %w", name, err)
	}
	nz.File = z.File
	if z.signedHere {
		// signed under a later serial, only what changed
		if nz, _, err = s.cfg.Signer.Sign(nz, z); err != nil {
			return fmt.Errorf("zones: publish %s: %w", name, err)
		}
		s.serveNewVersion(context.Background(), z, nz)
	} else {
		if j := s.cfg.Journal; j != nil {
			if _, err := j.Record(z, nz); err != nil {
				s.log.Warn("IXFR history not kept", "zone", z.Origin, "err", err)
			}
		}
		if nz.soa.Serial == z.soa.Serial {
			nz.soa.Serial = max(z.soa.Serial+1, uint32(time.Now().Unix()))
		}
		s.SwapZone(nz)
		go s.Notify(context.Background(), []*Zone{nz})
	}
	s.log.Info("ACME challenge record "+map[bool]string{true: "published", false: "withdrawn"}[add]+" in the zone", "zone", z.Origin, "name", name, "serial", nz.soa.Serial)
	return nil
}

// WaitPublished returns once every secondary of the zone holding name
// (those NOTIFY goes to) serves the zone's current serial or a later
// one, so that an ACME CA asking any of them finds the challenge just
// published; an error if one does not before ctx ends. Without
// secondaries it returns at once.
func (s *Server) WaitPublished(ctx context.Context, name string) error {
	z := s.set.Load().ZoneFor(name)
	if z == nil || !s.inZoneChallenges(z) {
		return nil
	}
	want := z.soa.Serial
	targets := s.notifyTargets(z)
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := uint32(0)
			for {
				if soa, err := s.primarySOA(ctx, Secondary{Zone: z.Origin, Primary: t.Addr}, s.keys[t.Key]); err == nil {
					if got = soa.Serial; got == want || got-want < 1<<31 {
						return
					}
				}
				select {
				case <-ctx.Done():
					errs[i] = fmt.Errorf("zones: secondary %s serves %s with serial %d, not yet %d", t.Addr, z.Origin, got, want)
					return
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
