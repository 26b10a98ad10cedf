package site

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"islet.dev/islet/internal/testpeer"
	"islet.dev/islet/site/plugins"
)

// jekyllBuild builds dir with Debian's jekyll and returns its files.
func jekyllBuild(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	testpeer.Require(t, "jekyll")
	dst := t.TempDir()
	abs, _ := filepath.Abs(dir)
	cmd := exec.Command("jekyll", "build", "--quiet", "-s", abs, "-d", dst, "--disable-disk-cache")
	// islet's render in the tests reads no environment: neither does
	// jekyll-github-metadata here
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(plugins.GitHubMetadataEnv, k) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "JEKYLL_ENV=production", "TZ=UTC")
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jekyll build %s: %v\n%s", dir, err, out)
	}
	files := map[string][]byte{}
	err := filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
