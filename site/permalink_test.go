package site

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A permalink case is a small site: the same posts, pages and a
// collection under one permalink setting. The paths Jekyll writes for
// each are recorded in testdata/permalinks.json by the peers test
// (-update), and islet must write the same.
type permalinkCase struct {
	name   string
	config string // _config.yml
}

// permalinkPosts are dated to hit the corners: 1 January 2021 is in ISO
// week 53 of 2020, 31 December 2024 is day 366 and in week 1 of 2025.
var permalinkFiles = map[string]string{
	"_posts/2021-01-01-new-year.md":           "---\ntitle: New Year!\ncategories: [Rust, Go Lang]\n---\nhi\n",
	"_posts/2024-12-31-last-day.md":           "---\ntitle: Last\n---\nbye\n",
	"_posts/2024-03-09-with-time.md":          "---\ndate: 2024-03-09 07:08:09 +0000\ncategory: News\n---\nt\n",
	"_posts/2024-03-10-Mixed Case & Signs.md": "---\n---\nm\n",
	"about.md":                    "---\ntitle: About\n---\na\n",
	"docs/guide.md":               "---\n---\ng\n",
	"docs/index.md":               "---\n---\ni\n",
	"feed.xml":                    "---\n---\n<feed/>\n",
	"_things/first-thing.md":      "---\ndate: 2023-07-04 13:14:15 +0000\ncategories: [A B]\n---\nx\n",
	"_things/sub/Second Thing.md": "---\ndate: 2022-01-02 00:00:00 +0000\n---\ny\n",
}

// every placeholder a collection document has (Jekyll's url_placeholders)
const allPlaceholders = "/:collection/:year/:month/:day/:hour/:minute/:second/:i_day/:i_month/:short_month/:long_month/:short_year/:y_day/:week/:w_year/:short_day/:long_day/:title/:slug/:name/:categories/:slugified_categories/:path:output_ext"

var permalinkCases = []permalinkCase{
	{"date", "permalink: date\n"},
	{"pretty", "permalink: pretty\n"},
	{"ordinal", "permalink: ordinal\n"},
	{"weekdate", "permalink: weekdate\n"},
	{"none", "permalink: none\n"},
	{"custom with a trailing slash", "permalink: /blog/:year/:title/\n"},
	{"custom without an extension", "permalink: /:categories/:slug\n"},
	{"every placeholder", "permalink: /p/:year/:y_day/:week/:w_year/:short_day/:long_day/:i_day/:i_month/:short_month/:long_month/:short_year/:hour:minute:second/:slugified_categories/:title:output_ext\n" +
		"collections:\n  things:\n    output: true\n    permalink: " + allPlaceholders + "\n"},
	{"collection pretty-like", "collections:\n  things:\n    output: true\n    permalink: /things/:path/\n"},
}

func (pc permalinkCase) write(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"_config.yml": "time: 2025-06-01 12:00:00 +0000\ntimezone: UTC\n" + pc.config}
	for k, v := range permalinkFiles {
		files[k] = v
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sortedPaths(files map[string][]byte) []string {
	var out []string
	for p := range files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

const permalinkGolden = "testdata/permalinks.json"

func readPermalinkGolden(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(permalinkGolden)
	if err != nil {
		t.Fatalf("%v (go test -tags peers -run Permalinks ./site -update records it from jekyll)", err)
	}
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", permalinkGolden, err)
	}
	return m
}

// TestPermalinks: islet writes each case's files where Jekyll did.
func TestPermalinks(t *testing.T) {
	if *update {
		t.Skip("-update: the peers test records the golden file")
	}
	golden := readPermalinkGolden(t)
	for _, pc := range permalinkCases {
		t.Run(pc.name, func(t *testing.T) {
			want, ok := golden[pc.name]
			if !ok {
				t.Fatalf("%s has no %q", permalinkGolden, pc.name)
			}
			dir := pc.write(t)
			out, err := Render(context.Background(), os.DirFS(dir), Options{Now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := sortedPaths(outputFiles(t, out))
			if !slices.Equal(got, want) {
				t.Errorf("paths:\n  islet:  %s\n  jekyll: %s", strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
}
