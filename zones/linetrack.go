package zones

import (
	"io"
	"io/fs"
	"strings"
)

// lineTracker is the io.ByteReader handed to miekg/dns's zone lexer. The
// lexer reads one byte at a time and stops right after the newline that
// ends a record, so by following parentheses, quotes and comments here we
// know on which line each record it returns began. It also remembers the
// text of directive entries ($TTL, $GENERATE) for the loader.
type lineTracker struct {
	file string
	size int    // octets of the file
	text string // the text the parser reads (see rewriteRecords)
	r    io.ByteReader
	last **lineTracker // set to the tracker that read most recently

	line                    int
	depth                   int
	inQuote, inComment, esc bool
	start, doneStart        int // first line of the current / last finished entry
	entry, doneEntry        []byte
	indented                bool // the current line began with a blank
	synthetic               bool // the newline being observed is not the file's
	rawLine                 int  // lines as the parser counts them, from 1
	synthLines              []int
	blank, doneBlank        bool // the current / last entry has a blank owner
	ttl                     *defaultTTL
}

// defaultTTL is the $TTL in effect, shared by a zone file and the files
// it includes: as in NSD, a $TTL inside an included file stays in effect
// after it.
type defaultTTL struct {
	value uint32
	set   bool
}

func newLineTracker(file string, r io.ByteReader, last **lineTracker, ttl *defaultTTL) *lineTracker {
	return &lineTracker{file: file, r: r, last: last, line: 1, rawLine: 1, ttl: ttl}
}

const maxEntryText = 256 // only the head of an entry is kept, for directives

func (t *lineTracker) ReadByte() (byte, error) {
	c, err := t.r.ReadByte()
	if err != nil {
		return c, err
	}
	*t.last = t
	if c == synthNewline { // between records a $GENERATE made: not a line of the file
		t.synthetic = true
		t.observe('\n')
		t.synthetic = false
		t.synthLines = append(t.synthLines, t.rawLine)
		t.rawLine++
		return '\n', nil
	}
	if c == '\n' {
		t.rawLine++
	}
	t.observe(c)
	return c, nil
}

// fileLine turns a line number as the parser counts it (synthetic
// newlines included) into the file's own.
func (t *lineTracker) fileLine(raw int) int {
	n := 0
	for _, at := range t.synthLines {
		if at < raw {
			n++
		}
	}
	return raw - n
}

// Read exists so that the tracker is an io.Reader; the lexer only uses
// ReadByte.
func (t *lineTracker) Read(p []byte) (int, error) {
	for i := range p {
		c, err := t.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = c
	}
	return len(p), nil
}

func (t *lineTracker) observe(c byte) {
	switch {
	case t.inComment:
		if c == '\n' {
			t.inComment = false
			t.newline()
		}
		return
	case t.esc:
		t.esc = false
		t.significant(c)
		return
	case t.inQuote:
		switch c {
		case '\\':
			t.esc = true
		case '"':
			t.inQuote = false
		case '\n':
			t.line++
		}
		t.keep(c)
		return
	}
	switch c {
	case ';':
		t.inComment = true
	case '"':
		t.inQuote = true
		t.significant(c)
	case '\\':
		t.esc = true
		t.significant(c)
	case '(':
		t.depth++
		t.significant(c)
	case ')':
		if t.depth > 0 {
			t.depth--
		}
		t.significant(c)
	case '\n':
		t.newline()
	case ' ', '\t', '\r':
		if t.start == 0 {
			t.indented = true
		}
		t.keep(' ')
	default:
		t.significant(c)
	}
}

func (t *lineTracker) significant(c byte) {
	if t.start == 0 {
		t.start = t.line
		t.blank = t.indented
	}
	t.keep(c)
}

func (t *lineTracker) keep(c byte) {
	if len(t.entry) < maxEntryText && (t.start != 0 || c != ' ') {
		t.entry = append(t.entry, c)
	}
}

func (t *lineTracker) newline() {
	if t.depth == 0 {
		if t.start != 0 {
			t.doneStart, t.start = t.start, 0
			t.doneBlank = t.blank
			t.doneEntry, t.entry = append(t.doneEntry[:0], t.entry...), t.entry[:0]
			if len(t.doneEntry) > 0 && t.doneEntry[0] == '$' { // a directive: only $TTL matters here
				t.observeTTL(string(t.doneEntry))
			}
		}
		t.indented = false
	} else {
		t.keep(' ')
	}
	if !t.synthetic {
		t.line++
	}
}

// current returns the first line and the head of the entry the lexer has
// just finished, and whether its owner was left blank. The head is the
// tracker's own buffer, good until the lexer reads on.
func (t *lineTracker) current() (int, []byte, bool) {
	if t.start != 0 { // last entry of a file without a final newline
		return t.start, t.entry, t.blank
	}
	return t.doneStart, t.doneEntry, t.doneBlank
}

// trackingFS opens files for $INCLUDE through a root-confined fs.FS and
// wraps each in a lineTracker.
type trackingFS struct {
	fsys fs.FS
	last **lineTracker
	ttl  *defaultTTL
}

type trackedFile struct {
	*lineTracker
	f fs.File
}

func (f *trackedFile) Close() error { return f.f.Close() }

func (t trackingFS) Open(name string) (fs.File, error) {
	f, err := t.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	chunk := 32 << 10
	if st, err := f.Stat(); err == nil && st.Size() > 0 && st.Size() <= maxZoneFileSize {
		b.Grow(int(st.Size()) + 1) // read in one go, not by doubling
		chunk = min(max(chunk, int(st.Size())+1), 1<<20)
	}
	if _, err := io.CopyBuffer(&b, io.LimitReader(f, maxZoneFileSize+1), make([]byte, chunk)); err != nil {
		f.Close()
		return nil, err
	}
	data := b.String()
	if len(data) > maxZoneFileSize {
		f.Close()
		return nil, errFileTooLarge
	}
	text := rewriteRecords(data)
	lt := newLineTracker(name, strings.NewReader(text), t.last, t.ttl)
	lt.size, lt.text = len(data), text
	return &trackedFileFS{trackedFile{lt, f}}, nil
}

// trackedFileFS adds the fs.File methods the zone parser never calls.
type trackedFileFS struct{ trackedFile }

func (f *trackedFileFS) Stat() (fs.FileInfo, error) { return f.f.Stat() }
