package web

import (
	"slices"
	"strconv"
	"strings"
)

// maxRanges is the most ranges one request may ask for; a request for
// more gets the whole file with 200, as nginx's max_ranges gives it.
// 16,000 one-byte ranges fit in the 64 KB header limit and would cost
// a multipart response of 36 times the request and 100+ ms of CPU.
const maxRanges = 16

// boundRanges rewrites a Range header value for content of size bytes:
// with more than maxRanges ranges it returns "" (serve the whole file);
// otherwise ranges that overlap or touch are merged into one, in order.
// A value it cannot parse, or whose ranges are all past the end, is
// returned as it is, for http.ServeContent to answer (416 or 200).
func boundRanges(v string, size int64) string {
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return v
	}
	if strings.Count(spec, ",") >= maxRanges {
		return ""
	}
	type span struct{ start, end int64 } // [start, end]
	var spans []span
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // RFC 9110 §14.1.1 allows empty list elements
		}
		a, b, ok := strings.Cut(part, "-")
		if !ok {
			return v
		}
		var s span
		switch {
		case a == "":
			n, err := strconv.ParseInt(b, 10, 64)
			if err != nil || n < 0 {
				return v
			}
			if n == 0 {
				continue // unsatisfiable
			}
			s = span{max(size-n, 0), size - 1}
		default:
			start, err := strconv.ParseInt(a, 10, 64)
			if err != nil || start < 0 {
				return v
			}
			end := size - 1
			if b != "" {
				if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
					return v
				}
			}
			if start >= size {
				continue // unsatisfiable
			}
			s = span{start, min(end, size-1)}
		}
		spans = append(spans, s)
	}
	if len(spans) == 0 {
		return v
	}
	slices.SortFunc(spans, func(x, y span) int { return int(min(max(x.start-y.start, -1), 1)) })
	merged := spans[:1]
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if s.start <= last.end+1 {
			last.end = max(last.end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	var out strings.Builder
	out.WriteString("bytes=")
	for i, s := range merged {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(strconv.FormatInt(s.start, 10))
		out.WriteByte('-')
		out.WriteString(strconv.FormatInt(s.end, 10))
	}
	return out.String()
}
