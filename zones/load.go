package zones

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

const (
	maxZoneFileSize = 256 << 20 // bytes per zone or included file
	maxDiagsPerFile = 100
)

var errFileTooLarge = fmt.Errorf("file larger than %d MiB", maxZoneFileSize>>20)

// LoadDir loads every zone file at the top of dir: each regular file whose
// name does not start with "." or "_" and does not end in "~" is one zone.
// Subdirectories are not zones; they may hold files for $INCLUDE, which
// may not reach outside dir. The origin comes from $ORIGIN or else from
// the file name ("example.org.zone", "example.org.db", "example.org").
//
// Any Error diagnostic means no Set is returned; the error is then a
// *LoadError carrying every diagnostic.
func LoadDir(dir string) (*Set, Diagnostics, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("zones: open directory: %w", err)
	}
	defer root.Close()
	return LoadFS(root.FS(), dir)
}

// LoadFS is LoadDir over an fs.FS; label prefixes file names in
// diagnostics (usually the directory the FS stands for).
func LoadFS(fsys fs.FS, label string) (*Set, Diagnostics, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("zones: read directory: %w", err)
	}
	var diags Diagnostics
	var zones []*Zone
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasSuffix(name, "~") {
			continue
		}
		z, ds := loadZone(fsys, name, label)
		diags = append(diags, ds...)
		if z != nil {
			zones = append(zones, z)
		}
	}
	diags = append(diags, checkDistinct(zones)...)
	sort.SliceStable(diags, func(i, j int) bool {
		if diags[i].File != diags[j].File {
			return diags[i].File < diags[j].File
		}
		return diags[i].Line < diags[j].Line
	})
	if diags.HasErrors() {
		return nil, diags, &LoadError{Diagnostics: diags}
	}
	if len(zones) == 0 {
		d := Diagnostic{File: label, Severity: Error, Msg: "no zone files in directory"}
		diags = append(diags, d)
		return nil, diags, &LoadError{Diagnostics: diags}
	}
	return newSet(zones), diags, nil
}

func checkDistinct(zones []*Zone) Diagnostics {
	var diags Diagnostics
	seen := map[string]*Zone{}
	for _, z := range zones {
		if other, ok := seen[z.wire]; ok {
			diags = append(diags, Diagnostic{File: z.File, Severity: Error,
				Msg: fmt.Sprintf("zone %s is also loaded from %s", z.Origin, other.File)})
			continue
		}
		seen[z.wire] = z
	}
	return diags
}

// parsedRR is one record with where it came from.
type parsedRR struct {
	rr   dns.RR
	file string
	line int
}

// originFromFileName guesses the origin of a zone file from its name.
func originFromFileName(name string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".zone"), ".db")
	if _, ok := dns.IsDomainName(base); !ok || base == "" {
		return ""
	}
	return dns.Fqdn(strings.ToLower(base))
}

// loadZone parses and validates one zone file; it returns no zone when
// there is any error.
func loadZone(fsys fs.FS, name, label string) (*Zone, Diagnostics) {
	display := name
	if label != "" {
		display = strings.TrimSuffix(label, "/") + "/" + name
	}
	streams, diags := parseZoneFile(fsys, name, label)
	if diags.HasErrors() {
		return nil, diags
	}
	z, ds := buildStreams(display, streams)
	diags = append(diags, ds...)
	if diags.HasErrors() {
		return nil, diags
	}
	return z, diags
}

func parseZoneFile(fsys fs.FS, name, label string) ([]*recStream, Diagnostics) {
	return parseZoneFileCut(fsys, name, label, 0)
}

// parseZoneFileCut parses a zone file into streams, cut into pieces
// parsed on every core when it is big enough (see cutEntries); minPiece,
// when not 0, overrides the smallest piece, for tests.
func parseZoneFileCut(fsys fs.FS, name, label string, minPiece int) ([]*recStream, Diagnostics) {
	streams, rrs, diags := parseZoneText(fsys, name, label, minPiece)
	if streams == nil && !diags.HasErrors() {
		streams = streamsFromParsed(rrs)
	}
	return streams, diags
}

// parseZoneText parses a zone file: into streams when it is cut in
// pieces, else into records with the zone parser.
func parseZoneText(fsys fs.FS, name, label string, minPiece int) ([]*recStream, []parsedRR, Diagnostics) {
	display := func(f string) string {
		if label == "" {
			return f
		}
		return strings.TrimSuffix(label, "/") + "/" + f
	}
	tfs := trackingFS{fsys: fsys, ttl: &defaultTTL{}}
	var last *lineTracker
	tfs.last = &last
	f, err := tfs.Open(name)
	if err != nil {
		return nil, nil, Diagnostics{{File: display(name), Severity: Error, Msg: "cannot read: " + unwrapPathError(err)}}
	}
	defer f.Close()
	top := f.(*trackedFileFS).lineTracker
	last = top
	origin := originFromFileName(name)
	workers := runtime.GOMAXPROCS(0)
	if pieces := cutEntries(top.text, origin, minPiece, workers); pieces != nil {
		if streams, diags, ok := parsePieces(top.text, name, display, pieces, workers); ok {
			return streams, nil, diags
		}
	}

	zp := dns.NewZoneParser(f.(io.Reader), origin, name)
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(tfs)
	zp.SetDefaultTTL(nsdDefaultTTL) // corrected below; the parser would refuse records without one
	// About one record per 24 octets of zone text: one growth at most.
	out := make([]parsedRR, 0, top.size/24+16)
	out, diags, noTTL := readEntries(zp, &last, tfs.ttl, display, out)
	if noTTL != nil {
		diags = slices.Insert(diags, 0, *noTTL)
	}
	return nil, out, diags
}

// readEntries reads the records a zone parser returns, each with the
// file and line it came from, and corrects their TTLs as NSD reads them.
// It returns the first record's warning of a missing $TTL apart, so that
// the pieces of a file parsed apart warn once.
func readEntries(zp *dns.ZoneParser, last **lineTracker, ttl *defaultTTL, display func(string) string, out []parsedRR) ([]parsedRR, Diagnostics, *Diagnostic) {
	var diags Diagnostics
	var noTTL *Diagnostic
	var prevTTL uint32
	shown := map[*lineTracker]string{} // each file's display name, made once
	prevOwner := ""
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		t := *last
		line, entry, blank := t.current()
		h := rr.Header()
		if h.Name == "" {
			if prevOwner == "" {
				diags = append(diags, Diagnostic{File: display(t.file), Line: line, Severity: Error,
					Msg: "the first record has a blank owner, which repeats the previous record's: give it one"})
				return out, diags, noTTL
			}
			// A blank owner on an included file's first record: the
			// parser starts the file afresh; NSD carries the owner on.
			h.Name = prevOwner
		}
		prevOwner = h.Name
		if bytes.HasPrefix(entry, []byte("$GENERATE")) {
			fixGenerateTTL(rr, string(entry), ttl, prevTTL)
		} else if !explicitTTL(entry, blank) {
			h.Ttl = nsdDefaultTTL
			if ttl.set {
				h.Ttl = ttl.value
			} else if noTTL == nil {
				noTTL = noTTLWarning(display(t.file), line)
			}
		}
		prevTTL = h.Ttl
		file, ok := shown[t]
		if !ok {
			file = display(t.file)
			shown[t] = file
		}
		out = append(out, parsedRR{rr: rr, file: file, line: line})
	}
	if err := zp.Err(); err != nil {
		d := parseErrorDiag(err, display)
		if t := *last; t != nil && d.File == display(t.file) {
			d.Line = t.fileLine(d.Line)
		}
		return out, append(diags, d), noTTL
	}
	return out, diags, noTTL
}

// noTTLWarning is the warning for the first record with no TTL when no
// $TTL is in effect.
func noTTLWarning(file string, line int) *Diagnostic {
	return &Diagnostic{File: file, Line: line, Severity: Warning,
		Msg: fmt.Sprintf("no $TTL before this record and no TTL of its own: using %d, as NSD does, for it and the others like it (BIND would use the SOA minimum)", nsdDefaultTTL)}
}

// nsdDefaultTTL is the TTL NSD and Knot give a record that has none when
// no $TTL is in effect.
const nsdDefaultTTL = 3600

// explicitTTL reports whether a record entry states its own TTL: after
// the owner (unless blank), a TTL may come before or after the class.
func explicitTTL(entry []byte, blank bool) bool {
	rest := entry
	if !blank {
		_, rest = nextField(rest)
	}
	for i := 0; i < 2; i++ {
		var f []byte
		if f, rest = nextField(rest); len(f) == 0 {
			return false
		}
		if _, ok := parseTTL(f); ok {
			return true
		}
		if !isClass(f) {
			return false
		}
	}
	return false
}

// nextField splits the first blank-separated word off s (the tracker
// has turned every blank into one space).
func nextField(s []byte) ([]byte, []byte) {
	s = bytes.TrimLeft(s, " ")
	if i := bytes.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i:]
	}
	return s, nil
}

// isClass reports whether a word is a class: IN, CH, HS, NONE, ANY or
// CLASSn, in any case.
func isClass(f []byte) bool {
	switch len(f) {
	case 2, 3, 4:
		var up [4]byte
		for i := 0; i < len(f); i++ {
			up[i] = f[i] &^ 0x20
		}
		_, ok := dns.StringToClass[string(up[:len(f)])]
		return ok
	}
	return len(f) > 5 && bytes.EqualFold(f[:5], []byte("CLASS"))
}

func unwrapPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// miekg/dns formats parse errors as
// `file: dns: message: "token" at line: L:C`.
var includeErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile("^failed to open `([^']*)'.*?: ([^:]*(?:: [^:]*)?)(?:: \"[^\"]*\")?$")
})

var parseErrRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:(.*?): )?dns: (.*) at line: (\d+):(\d+)$`)
})

func parseErrorDiag(err error, display func(string) string) Diagnostic {
	m := parseErrRE().FindStringSubmatch(err.Error())
	if m == nil {
		return Diagnostic{File: display("?"), Severity: Error, Msg: err.Error()}
	}
	line, _ := strconv.Atoi(m[3])
	col, _ := strconv.Atoi(m[4])
	msg := m[2]
	if token, ok := strings.CutPrefix(msg, ": "); ok || msg == "" {
		// The parser gave no reason, only the word it stopped at.
		msg = "cannot read record data at " + token
	}
	if im := includeErrRE().FindStringSubmatch(msg); im != nil {
		reason := im[2]
		switch {
		case strings.Contains(reason, "no such file"):
			reason = "no such file"
		case strings.Contains(reason, "invalid argument"), strings.Contains(reason, "path escapes"):
			reason = "outside the zones directory"
		}
		msg = "$INCLUDE " + im[1] + ": " + reason
	}
	return Diagnostic{File: display(m[1]), Line: line, Col: col, Severity: Error, Msg: msg}
}

// fixGenerateTTL gives records made by a $GENERATE without its own TTL the
// default TTL, as BIND does ($TTL, else the previous record's TTL); the
// parser would give them 3600.
func fixGenerateTTL(rr dns.RR, entry string, def *defaultTTL, prevTTL uint32) {
	f := strings.Fields(entry)
	// $GENERATE range lhs [ttl] [class] type rhs, class and TTL in any order
	for i := 3; i < len(f) && i < 5; i++ {
		if _, ok := parseTTL(f[i]); ok {
			return
		}
		if _, ok := dns.StringToClass[strings.ToUpper(f[i])]; !ok {
			break
		}
	}
	switch {
	case def.set:
		rr.Header().Ttl = def.value
	case prevTTL != 0:
		rr.Header().Ttl = prevTTL
	}
}

// observeTTL remembers the value of a $TTL entry.
func (t *lineTracker) observeTTL(entry string) {
	if f := strings.Fields(entry); len(f) >= 2 && strings.EqualFold(f[0], "$TTL") {
		if v, ok := parseTTL(f[1]); ok {
			*t.ttl = defaultTTL{value: v, set: true}
		}
	}
}

// parseTTL reads a TTL in zone-file syntax: seconds, or BIND units
// (1w2d3h4m5s).
func parseTTL[T string | []byte](s T) (uint32, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var total, cur uint64
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			cur = cur*10 + uint64(c-'0')
			digits = true
		default:
			if !digits {
				return 0, false
			}
			var mult uint64
			switch c | 0x20 {
			case 's':
				mult = 1
			case 'm':
				mult = 60
			case 'h':
				mult = 3600
			case 'd':
				mult = 86400
			case 'w':
				mult = 604800
			default:
				return 0, false
			}
			total += cur * mult
			cur, digits = 0, false
		}
		if total+cur > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(total + cur), true
}
