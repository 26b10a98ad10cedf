package zones

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/miekg/dns"
)

// RolloverTiming says how long the steps of a key rollover wait.
type RolloverTiming struct {
	// ZoneTTL is the largest TTL of the zone (its DNSKEY included): how
	// long a cache may keep an answer signed before the new key came.
	ZoneTTL time.Duration
	// ParentTTL is how long, once CDS names the new key, until no
	// resolver can hold a DS naming the old key only: the parent's delay
	// in taking the CDS up plus its DS TTL.
	ParentTTL time.Duration
	// Propagation is how long a change takes to reach every server of
	// the zone (its secondaries).
	Propagation time.Duration
}

// Rollover is the schedule StartRollover set.
type Rollover struct {
	New, Old []*SigningKey
	// SyncAt is when CDS and CDNSKEY name the new key instead of the
	// old; RetireAt is when the old key and its signatures go.
	SyncAt, RetireAt time.Time
}

// StartRollover starts a rollover of the key-signing (or combined) keys
// of origin in dir by double signature, the way RFC 7583 §3.3 rolls a
// key the parent's DS names: a new key of the same algorithm is
// published and signs every RRset beside the old one from now on. CDS
// and CDNSKEY name the new key once no cache can hold an answer
// without its signatures or a DNSKEY RRset without it (now + ZoneTTL +
// Propagation). The old key goes, with its signatures, once no resolver
// can hold a DS naming it alone (that + ParentTTL + Propagation). The
// schedule is written into the keys' files (BIND's timing fields), so
// that a restart carries it on, and a signer following those files takes
// each step when its time comes.
func StartRollover(dir, origin string, now time.Time, t RolloverTiming) (*Rollover, error) {
	origin = dns.Fqdn(origin)
	keys, err := ReadZoneKeys(dir, origin)
	if err != nil {
		return nil, err
	}
	r := &Rollover{SyncAt: now.Add(t.ZoneTTL + t.Propagation).UTC().Truncate(time.Second)}
	r.RetireAt = r.SyncAt.Add(t.ParentTTL + t.Propagation)
	for _, k := range keys {
		if !k.SEP() || !k.active(now) {
			continue
		}
		if !k.Inactive.IsZero() {
			return nil, fmt.Errorf("zones: rollover of %s: one is under way already: key %d signs until %s", origin, k.Tag(), k.Inactive.UTC().Format(time.RFC3339))
		}
		r.Old = append(r.Old, k)
	}
	if len(r.Old) == 0 {
		return nil, fmt.Errorf("zones: rollover of %s: no active key-signing key in %s", origin, dir)
	}
	ks := &KeyStore{dir: dir, alg: r.Old[0].DNSKEY.Algorithm}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for _, old := range r.Old {
		k, err := ks.create(origin, old.DNSKEY.Flags, now)
		if err != nil {
			return nil, err
		}
		k.SyncPublish = r.SyncAt
		if err := k.write(k.signer); err != nil {
			return nil, err
		}
		r.New = append(r.New, k)
		old.SyncDelete, old.Inactive, old.Delete = r.SyncAt, r.RetireAt, r.RetireAt
		if err := old.write(old.signer); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// keysStamp is the latest change to origin's key files in the store: a
// signer signs a zone again when it moves (a rollover started).
func (ks *KeyStore) keysStamp(origin string) time.Time {
	matches, _ := filepath.Glob(filepath.Join(ks.dir, "K"+globEscape(dns.Fqdn(origin))+"+*"))
	var last time.Time
	for _, f := range matches {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(last) {
			last = st.ModTime()
		}
	}
	return last
}
