package site

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// theme is a gem-based Jekyll theme: _layouts, _includes, _sass and
// assets that the site's own files override.
type theme struct {
	name string
	dir  string
	fsys fs.FS
}

// themeSearchPath is where Debian and RubyGems install theme gems.
var themeSearchPath = []string{
	"/usr/share/rubygems-integration/all/gems",
	"/usr/lib/ruby/gems/*/gems",
	"/var/lib/gems/*/gems",
	"/usr/local/lib/ruby/gems/*/gems",
}

// findTheme resolves theme: NAME to a folder: dir itself when given
// (--theme-dir), else the newest NAME-VERSION gem installed.
func findTheme(name, dir string) (*theme, error) {
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("theme %q: %s is not a folder", name, dir)
		}
		return &theme{name: name, dir: dir, fsys: os.DirFS(dir)}, nil
	}
	var found []string
	for _, p := range themeSearchPath {
		if env := os.Getenv("GEM_HOME"); env != "" && p == themeSearchPath[0] {
			m, _ := filepath.Glob(filepath.Join(env, "gems", name+"-[0-9]*"))
			found = append(found, m...)
		}
		m, _ := filepath.Glob(filepath.Join(p, name+"-[0-9]*"))
		found = append(found, m...)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("_config.yml: theme %q is not installed (apt-get install jekyll-theme-%s, or give its folder with --theme-dir)", name, name)
	}
	sort.Strings(found)
	d := found[len(found)-1]
	return &theme{name: name, dir: d, fsys: os.DirFS(d)}, nil
}
