//go:build peers

package site

import "testing"

// TestAgainstJekyll builds every fixture with Debian's jekyll and with
// islet and compares the outputs file by file.
func TestAgainstJekyll(t *testing.T) {
	for _, f := range fixtures(t) {
		dir := f.dir
		t.Run(f.name, func(t *testing.T) {
			want := outputArchive(jekyllBuild(t, dir))
			got := outputArchive(renderDir(t, dir))
			compareArchives(t, want, got)
		})
	}
}
