package site

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDateNow: "now" in a date filter is the wall clock, as in Jekyll,
// even with time: in _config.yml; a build pinned to a time
// (Options.Now, from SOURCE_DATE_EPOCH) gets that time instead.
func TestDateNow(t *testing.T) {
	files := map[string]string{
		"_config.yml": "time: 2001-02-03 04:05:06 +0000\n",
		"index.html":  "---\n---\n{{ 'now' | date: '%Y' }} {{ 'today' | date: '%Y' }} {{ site.time | date: '%Y' }}",
	}
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Time{}, strconv.Itoa(time.Now().Year())},
		{time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC), "1999"},
	} {
		out, err := Render(context.Background(), mapFS(files), Options{Now: tc.now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := out.ReadFile("index.html")
		if got, want := strings.TrimSpace(string(b)), tc.want+" "+tc.want+" 2001"; got != want {
			t.Errorf("Now %v: %q, want %q", tc.now, got, want)
		}
	}
}
