//go:build peers

package site

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"islet.dev/islet/internal/testpeer"
)

// TestAgainstJekyll builds every fixture with Debian's jekyll and with
// islet and compares the outputs file by file.
func TestAgainstJekyll(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			dir := f.tree(t)
			want := outputArchive(jekyllBuild(t, dir))
			got := outputArchive(renderDir(t, dir))
			compareArchives(t, want, got)
		})
	}
}

// TestJekyllNewSite: the site "jekyll new" makes (minima theme, Sass,
// jekyll-feed, jekyll-seo-tag) renders as jekyll renders it.
func TestJekyllNewSite(t *testing.T) {
	testpeer.Require(t, "jekyll")
	dir := filepath.Join(t.TempDir(), "new")
	cmd := exec.Command("jekyll", "new", dir, "--skip-bundle")
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jekyll new: %v\n%s", err, out)
	}
	f, err := os.OpenFile(filepath.Join(dir, "_config.yml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("time: 2099-01-01 00:00:00 +0000\n") // the welcome post is dated today
	f.Close()
	want := outputArchive(jekyllBuild(t, dir))
	got := outputArchive(renderDir(t, dir))
	if len(want.Files) < 7 {
		t.Fatalf("jekyll wrote only %d files", len(want.Files))
	}
	compareArchives(t, want, got)
}

// TestPermalinksJekyll builds each permalink case with Debian's jekyll:
// testdata/permalinks.json must hold what it writes (-update records it).
func TestPermalinksJekyll(t *testing.T) {
	got := map[string][]string{}
	for _, pc := range permalinkCases {
		got[pc.name] = sortedPaths(jekyllBuild(t, pc.write(t)))
	}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(permalinkGolden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	golden := readPermalinkGolden(t)
	for _, pc := range permalinkCases {
		if !slices.Equal(golden[pc.name], got[pc.name]) {
			t.Errorf("%s is stale for %q:\n  golden: %v\n  jekyll: %v", permalinkGolden, pc.name, golden[pc.name], got[pc.name])
		}
	}
}
