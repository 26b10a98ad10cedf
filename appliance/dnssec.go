package appliance

import (
	"fmt"
	"log/slog"
	"time"

	"islet.dev/islet/zones"
)

// signZones signs the zones of set that signer signs (those without a
// DNSKEY of their own), taking over the signatures of prev(origin), the
// version served before, where they still hold. The first zone that
// cannot be signed stops it with an error, and nothing of set is
// served: the zones served before stay.
func signZones(signer *zones.Signer, set *zones.Set, prev func(origin string) *zones.Zone, log *slog.Logger) (*zones.Set, error) {
	if signer == nil {
		return set, nil
	}
	out := set
	for _, z := range set.Zones() {
		if !signer.Signs(z) {
			if z.Signed() {
				log.Info("zone signed already: served with its own signatures", "component", "dns", "zone", z.Origin)
			}
			continue
		}
		start := time.Now()
		sz, st, err := signer.Sign(z, prev(z.Origin))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", z.File, err)
		}
		for _, msg := range []string{st.Msg, st.Rollover} {
			if msg != "" {
				log.Warn(msg, "component", "dns", "zone", z.Origin)
			}
		}
		log.Info("zone signed", "component", "dns", "zone", z.Origin, "serial", sz.Serial(), "denial", sz.Denial(),
			"signed", st.Signed, "kept", st.Reused, "took", time.Since(start).Round(time.Millisecond))
		out = out.With(sz)
	}
	if out != set {
		// The unsigned zones and the signing's garbage go back to the
		// system now, as after loading.
		go releaseLoadGarbage()
	}
	return out, nil
}

// servedZone returns a lookup of the zones set serves, by origin.
func servedZone(set *zones.Set) func(string) *zones.Zone {
	return func(origin string) *zones.Zone {
		if set == nil {
			return nil
		}
		if z := set.ZoneFor(origin); z != nil && z.Origin == origin {
			return z
		}
		return nil
	}
}

// keptZone returns a lookup of the zones j kept on disk, by origin.
func keptZone(j *zones.Journal, log *slog.Logger) func(string) *zones.Zone {
	return func(origin string) *zones.Zone {
		z, err := j.Kept(origin)
		if err != nil {
			log.Warn("the version served before the restart is unreadable: the zone is signed afresh", "component", "dns", "zone", origin, "err", err)
		}
		return z
	}
}
