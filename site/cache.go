package site

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"islet.dev/islet/site/plugins"
)

// InputHash is a content hash of everything a render reads: every file
// of the source tree (config, layouts, includes, data, documents,
// static files), the theme's files and the options. Two renders with
// the same hash write the same files (site.time aside when _config.yml
// has no time:).
func InputHash(src fs.FS, opt Options) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "islet-render 1\x00%v\x00%v\x00%v\x00%s\x00%s\x00", opt.Drafts, opt.Future, opt.Unpublished, opt.Environment, opt.ThemeDir)
	if opt.Getenv != nil {
		for _, k := range plugins.GitHubMetadataEnv {
			fmt.Fprintf(h, "%s=%s\x00", k, opt.Getenv(k))
		}
	}
	if err := hashTree(h, src, "site"); err != nil {
		return "", err
	}
	cfg, err := readConfig(src, opt)
	if err != nil {
		return "", err
	}
	if name := getString(cfg.raw, "theme"); name != "" {
		t, err := findTheme(name, opt.ThemeDir)
		if err != nil {
			return "", err
		}
		if err := hashTree(h, t.fsys, "theme"); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashTree(h io.Writer, fsys fs.FS, label string) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (d.Name() == ".git" || d.Name() == ".jekyll-cache" || d.Name() == "_site") {
				return fs.SkipDir
			}
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", label, p, len(data))
		h.Write(data)
		return nil
	})
}

// Cache remembers, in a folder, which inputs produced a destination,
// so that rendering an unchanged tree again does nothing.
type Cache struct{ Dir string }

func (c Cache) stamp(dst string) string {
	abs, err := filepath.Abs(dst)
	if err != nil {
		abs = dst
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(c.Dir, "render-"+hex.EncodeToString(sum[:8]))
}

// StateDir is where the incremental state for renders into dst lives
// (Options.StateDir).
func (c Cache) StateDir(dst string) string { return c.stamp(dst) + ".state" }

// Fresh reports whether dst holds the render of inputs with this hash.
func (c Cache) Fresh(dst, hash string) bool {
	b, err := os.ReadFile(c.stamp(dst))
	if err != nil || strings.TrimSpace(string(b)) != hash {
		return false
	}
	_, err = os.Stat(dst)
	return err == nil
}

// Record notes that dst now holds the render of inputs with this hash.
func (c Cache) Record(dst, hash string) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	tmp := c.stamp(dst) + ".tmp"
	if err := os.WriteFile(tmp, []byte(hash+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.stamp(dst))
}
