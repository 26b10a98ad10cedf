package zones

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Journal keeps, per zone, the differences between the versions served
// one after the other, so that an IXFR from a recent serial gets only
// what changed (RFC 1995). With a folder it keeps them on disk too, with
// the version last served, so that after a restart the zone files are
// compared with what was served before and the history goes on.
type Journal struct {
	dir      string
	maxBytes int

	mu    sync.Mutex
	zones map[string]*zoneJournal // by origin
}

// zoneJournal is one zone's history, oldest difference first; each
// difference starts at the serial the one before ends at.
type zoneJournal struct {
	deltas []delta
	size   int // octets of the records' text, for the bound
}

// delta is one version of a zone to the next.
type delta struct {
	from, to *dns.SOA
	del, add []dns.RR
}

// DefaultJournalBytes bounds one zone's history when NewJournal is
// given 0: the oldest differences are dropped past it.
const DefaultJournalBytes = 4 << 20

// NewJournal returns a journal kept in dir (created when missing), or
// in memory only when dir is "".
func NewJournal(dir string, maxBytes int) (*Journal, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultJournalBytes
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	return &Journal{dir: dir, maxBytes: maxBytes, zones: map[string]*zoneJournal{}}, nil
}

// Record compares z, about to be served, with prev, the version served
// before it (nil: the one kept on disk, if any), and keeps the
// difference. A zone whose records changed while its serial is not newer
// than the one served gets a new serial, the current Unix time or the
// served serial plus one, whichever is later (Knot's unixtime policy),
// and Record says so in its message; a signed zone is never changed (its
// history starts again). The same records under an older serial are
// served under the serial they had. A zone the journal cannot follow is
// served all the same: the error only means IXFR falls back to whole
// zones.
func (j *Journal) Record(prev, z *Zone) (msg string, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if prev == nil && j.dir != "" {
		if prev, err = j.loadSnapshot(z.Origin); err != nil {
			return "", err
		}
		if err := j.loadDeltas(z.Origin); err != nil {
			return "", err
		}
	}
	if prev == nil {
		return "", j.saveSnapshot(z)
	}
	del, add := diffRecords(prev.RRs(), z.RRs())
	old, cur := prev.soa.Serial, z.soa.Serial
	notNewer := cur == old || cur-old >= 1<<31 // RFC 1982
	switch {
	case len(del)+len(add) == 0 && cur == old:
		return "", j.saveSnapshot(z)
	case len(del)+len(add) == 0 && notNewer:
		// the same records as served, under an older serial (the file's,
		// where islet served a later one): serve them as they were
		if !z.Signed() {
			z.soa.Serial = old
		}
		return "", j.saveSnapshot(z)
	case notNewer && z.Signed():
		delete(j.zones, z.Origin)
		if err := j.saveDeltas(z.Origin); err != nil {
			return "", err
		}
		return fmt.Sprintf("zone %s changed but its serial %d is not newer than the %d served before, and it is signed: secondaries will not see the change", z.Origin, cur, old), j.saveSnapshot(z)
	case notNewer:
		z.soa.Serial = max(old+1, uint32(time.Now().Unix()))
		msg = fmt.Sprintf("zone %s changed but its serial %d is not newer than the %d served before: serving it as serial %d", z.Origin, cur, old, z.soa.Serial)
	}
	fromSOA, toSOA := *prev.soa, *z.soa
	zj := j.zones[z.Origin]
	if zj == nil {
		zj = &zoneJournal{}
		j.zones[z.Origin] = zj
	}
	if n := len(zj.deltas); n > 0 && zj.deltas[n-1].to.Serial != old {
		zj.deltas, zj.size = nil, 0 // the history does not lead to prev
	}
	dl := delta{from: &fromSOA, to: &toSOA, del: del, add: add}
	zj.deltas = append(zj.deltas, dl)
	zj.size += dl.bytes()
	for len(zj.deltas) > 1 && zj.size > j.maxBytes {
		zj.size -= zj.deltas[0].bytes()
		zj.deltas = zj.deltas[1:]
	}
	if err := j.saveDeltas(z.Origin); err != nil {
		return msg, err
	}
	return msg, j.saveSnapshot(z)
}

// since returns the differences that lead from serial to the zone's
// current one, false when the history does not reach that far back.
func (j *Journal) since(origin string, serial, current uint32) ([]delta, bool) {
	if j == nil {
		return nil, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	zj := j.zones[origin]
	if zj == nil {
		return nil, false
	}
	for i, d := range zj.deltas {
		if d.from.Serial == serial {
			out := zj.deltas[i:]
			if out[len(out)-1].to.Serial != current {
				return nil, false
			}
			return append([]delta(nil), out...), true
		}
	}
	return nil, false
}

func (d delta) bytes() int {
	n := 0
	for _, rr := range append(append([]dns.RR(nil), d.del...), d.add...) {
		n += dns.Len(rr)
	}
	return n
}

// recordKey tells records apart when zones are compared: records are
// equal when their text, lowercased, is.
func recordKey(rr dns.RR) string { return strings.ToLower(rr.String()) }

// diffRecords returns the records of prev that cur lacks and those of
// cur that prev lacks, SOAs left out (recordKey).
func diffRecords(prev, cur []dns.RR) (del, add []dns.RR) {
	key := recordKey
	in := make(map[string]bool, len(cur))
	for _, rr := range cur {
		in[key(rr)] = true
	}
	was := make(map[string]bool, len(prev))
	for _, rr := range prev {
		k := key(rr)
		was[k] = true
		if rr.Header().Rrtype != dns.TypeSOA && !in[k] {
			del = append(del, rr)
		}
	}
	for _, rr := range cur {
		if rr.Header().Rrtype != dns.TypeSOA && !was[key(rr)] {
			add = append(add, rr)
		}
	}
	return del, add
}

// The files of a zone in the journal's folder: the version last served
// as a zone file, and the differences, each as "; from A to B", the
// two SOAs, then "-" and "+" records.
func (j *Journal) file(origin, ext string) string { return zoneFileName(j.dir, "zone-", origin, ext) }

// Kept returns the version of the zone origin the journal keeps on
// disk, the one served last before a restart; nil when there is none.
func (j *Journal) Kept(origin string) (*Zone, error) {
	if j == nil || j.dir == "" {
		return nil, nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.loadSnapshot(origin)
}

func (j *Journal) saveSnapshot(z *Zone) error {
	if j.dir == "" {
		return nil
	}
	if err := writeZoneFile(z, j.file(z.Origin, ".served")); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func (j *Journal) loadSnapshot(origin string) (*Zone, error) {
	z, _, err := readZoneFile(origin, j.file(origin, ".served"))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return z, nil
}

func (j *Journal) saveDeltas(origin string) error {
	if j.dir == "" {
		return nil
	}
	var b strings.Builder
	if zj := j.zones[origin]; zj != nil {
		for _, d := range zj.deltas {
			fmt.Fprintf(&b, "; from %d to %d\n%s\n%s\n", d.from.Serial, d.to.Serial, d.from, d.to)
			for _, rr := range d.del {
				fmt.Fprintf(&b, "-%s\n", rr)
			}
			for _, rr := range d.add {
				fmt.Fprintf(&b, "+%s\n", rr)
			}
		}
	}
	if err := writeAtomic(j.file(origin, ".journal"), b.String()); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func (j *Journal) loadDeltas(origin string) error {
	file := j.file(origin, ".journal")
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	zj := &zoneJournal{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	bad := func(line int, what string) error { return fmt.Errorf("journal: %s:%d: %s", file, line, what) }
	var cur *delta
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "; from "):
			zj.deltas = append(zj.deltas, delta{})
			cur = &zj.deltas[len(zj.deltas)-1]
		case cur == nil:
			return bad(line, "a record before any \"; from\" line")
		case cur.from == nil || cur.to == nil:
			rr, err := dns.NewRR(text)
			soa, ok := rr.(*dns.SOA)
			if err != nil || !ok {
				return bad(line, "want a SOA record")
			}
			if cur.from == nil {
				cur.from = soa
			} else {
				cur.to = soa
			}
		case strings.HasPrefix(text, "-") || strings.HasPrefix(text, "+"):
			rr, err := dns.NewRR(text[1:])
			if err != nil || rr == nil {
				return bad(line, "bad record: "+strconv.Quote(text))
			}
			if text[0] == '-' {
				cur.del = append(cur.del, rr)
			} else {
				cur.add = append(cur.add, rr)
			}
		default:
			return bad(line, "want a line starting with - or +")
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("journal: %s: %w", file, err)
	}
	for i, d := range zj.deltas {
		if d.to == nil || i > 0 && zj.deltas[i-1].to.Serial != d.from.Serial {
			return fmt.Errorf("journal: %s: the differences do not follow one another", file)
		}
		zj.size += d.bytes()
	}
	j.zones[origin] = zj
	return nil
}
