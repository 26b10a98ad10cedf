package zones

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// zoneFileName is where islet keeps a file about origin in dir: prefix,
// the origin without its final dot (slashes and control characters
// made underscores), ext.
func zoneFileName(dir, prefix, origin, ext string) string {
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < ' ' {
			return '_'
		}
		return r
	}, strings.TrimSuffix(origin, "."))
	return filepath.Join(dir, prefix+name+ext)
}

// writeZoneFile writes z's records to file as a zone file, atomically.
func writeZoneFile(z *Zone, file string) error {
	var b strings.Builder
	for _, rr := range z.RRs() {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return writeAtomic(file, b.String())
}

// WriteZone writes z as a zone file, one record a line, the SOA first.
func WriteZone(w io.Writer, z *Zone) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(z.soa.String() + "\n")
	for _, rr := range z.RRs() {
		if rr != dns.RR(z.soa) {
			bw.WriteString(rr.String())
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// readZoneFile reads a zone writeZoneFile wrote, and the file's time;
// nil when there is no file.
func readZoneFile(origin, file string) (*Zone, time.Time, error) {
	st, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, time.Time{}, err
	}
	var rrs []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(string(data)), origin, file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, time.Time{}, err
	}
	z, _, err := Build(origin, file, rrs)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", file, err)
	}
	return z, st.ModTime(), nil
}

// writeAtomic replaces file with data, never leaving half of it.
func writeAtomic(file, data string) error { return writeFileAtomic(file, []byte(data), 0o600) }
