package web

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestBoundRanges(t *testing.T) {
	many := "bytes=" + strings.Repeat("0-0,", maxRanges) + "1-1"
	sixteen := "bytes=" + strings.TrimSuffix(strings.Repeat("0-0,", maxRanges), ",")
	tests := []struct{ in, want string }{
		{"bytes=0-9", "bytes=0-9"},
		{"bytes=5-", "bytes=5-99"},
		{"bytes=-10", "bytes=90-99"},
		{"bytes=-1000", "bytes=0-99"},
		{"bytes=0-1000", "bytes=0-99"},
		{"bytes=0-9,5-20", "bytes=0-20"},        // overlapping
		{"bytes=0-9,10-20", "bytes=0-20"},       // touching
		{"bytes=50-60,0-9", "bytes=0-9,50-60"},  // ordered
		{"bytes=0-9,20-29", "bytes=0-9,20-29"},  // apart
		{"bytes=0-0,0-0,0-0,0-0", "bytes=0-0"},  // the same byte asked four times
		{"bytes=0-9,,20-29", "bytes=0-9,20-29"}, // empty element
		{"bytes=0-9,200-300", "bytes=0-9"},      // the unsatisfiable one dropped
		{"bytes=200-300", "bytes=200-300"},      // all unsatisfiable: ServeContent says 416
		{"bytes=9-0", "bytes=9-0"},              // malformed: as it is
		{"bytes=x", "bytes=x"},
		{"items=0-9", "items=0-9"},
		{sixteen, "bytes=0-0"},
		{many, ""},
	}
	for _, tc := range tests {
		if got := boundRanges(tc.in, 100); got != tc.want {
			t.Errorf("boundRanges(%.40q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRangeRequests: through the handler, many ranges get the whole
// file and overlapping ones one part.
func TestRangeRequests(t *testing.T) {
	body := strings.Repeat("0123456789", 10)
	s, err := NewSite(fstest.MapFS{"f.bin": {Data: []byte(body)}}, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ones []string
	for i := 0; i < 1000; i++ {
		ones = append(ones, fmt.Sprintf("%d-%d", i%100, i%100))
	}
	tests := []struct {
		name, rng    string
		status       int
		contentRange string
		body         string
		parts        int
	}{
		{"one", "bytes=0-4", 206, "bytes 0-4/100", "01234", 0},
		{"overlapping merge into one", "bytes=0-4,3-9", 206, "bytes 0-9/100", "0123456789", 0},
		{"disjoint stay apart", "bytes=0-1,10-11,20-21", 206, "", "", 3},
		{"a thousand one-byte ranges get the file", "bytes=" + strings.Join(ones, ","), 200, "", body, 0},
		{"seventeen get the file", "bytes=" + strings.Repeat("0-1,5-6,", 8) + "9-9", 200, "", body, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(s, "GET", "/f.bin", "Range", tc.rng)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("Content-Range"); got != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
			}
			if tc.body != "" && w.Body.String() != tc.body {
				t.Errorf("body %q, want %q", w.Body.String(), tc.body)
			}
			if n := strings.Count(w.Body.String(), "Content-Range: bytes"); n != tc.parts {
				t.Errorf("%d parts, want %d", n, tc.parts)
			}
		})
	}
}
