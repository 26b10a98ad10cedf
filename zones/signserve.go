package zones

import (
	"context"
	"time"
)

// Update runs fn with the zones served now and serves the set it
// returns, one change at a time with the others the server makes to
// its zones (ACME challenge records, re-signing): a reload of the zone
// files goes through it. An error from fn leaves the zones as they are.
// It returns the set served before.
func (s *Server) Update(fn func(cur *Set) (*Set, error)) (*Set, error) {
	s.chmu.Lock()
	defer s.chmu.Unlock()
	cur := s.set.Load()
	next, err := fn(cur)
	if err != nil {
		return cur, err
	}
	return s.Swap(next), nil
}

// KeepSigned makes the signatures of the zones Config.Signer signed
// again before they run out (when a third of their validity is left),
// and takes each step of a key rollover when its time comes (or, when
// the key files changed, within the hour), until ctx ends. A zone signed again is served under a new serial,
// kept in the journal and sent to the secondaries with NOTIFY; queries
// see the old version or the new, never a gap.
func (s *Server) KeepSigned(ctx context.Context) {
	signer := s.cfg.Signer
	if signer == nil {
		return
	}
	for {
		wait := time.Hour // zones swapped in are looked at within the hour
		var first time.Time
		for _, z := range s.set.Load().Zones() {
			if z.signedHere && (first.IsZero() || z.resignAt.Before(first)) {
				first = z.resignAt
			}
		}
		if !first.IsZero() {
			wait = min(wait, max(first.Sub(signer.opt.Now()), 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if !s.resignDue(ctx) {
			// a zone failed: try again in a minute, not in a loop
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Minute):
			}
		}
	}
}

// resignDue signs again the zones whose first signature is due; false
// when one of them failed.
func (s *Server) resignDue(ctx context.Context) bool {
	s.chmu.Lock()
	defer s.chmu.Unlock()
	now := s.cfg.Signer.opt.Now()
	ok := true
	for _, z := range s.set.Load().Zones() {
		if !z.signedHere || z.resignAt.After(now) && s.cfg.Signer.keys.keysStamp(z.Origin).Equal(z.keysStamp) {
			continue // not due, and its keys did not change
		}
		nz, st, err := s.cfg.Signer.Sign(z, z)
		if err != nil {
			s.log.Error("zone not signed again: its signatures run out on "+z.resignAt.Add(s.cfg.Signer.refreshBefore()).UTC().Format(time.RFC3339), "zone", z.Origin, "err", err)
			ok = false
			continue
		}
		s.serveNewVersion(ctx, z, nz)
		s.log.Info("zone signed again", "zone", z.Origin, "serial", nz.Serial(), "signatures", st.Signed, "kept", st.Reused)
	}
	return ok
}

// serveNewVersion serves nz in place of z, a version of the same zone
// made here: the journal keeps the difference and the secondaries are
// told. Called with chmu held.
func (s *Server) serveNewVersion(ctx context.Context, z, nz *Zone) {
	if j := s.cfg.Journal; j != nil {
		if _, err := j.Record(z, nz); err != nil {
			s.log.Warn("IXFR history not kept", "zone", z.Origin, "err", err)
		}
	}
	s.SwapZone(nz)
	go s.Notify(context.WithoutCancel(ctx), []*Zone{nz})
}
