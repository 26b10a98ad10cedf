//go:build peers

package site

import (
	"path/filepath"
	"testing"
)

// TestAgainstJekyll builds every fixture with Debian's jekyll and with
// islet and compares the outputs file by file.
func TestAgainstJekyll(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want := outputArchive(jekyllBuild(t, dir))
			got := outputArchive(renderDir(t, dir))
			compareArchives(t, want, got)
		})
	}
}
