//go:build !guest

package appliance

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Changes is one batch of edits to an appliance folder: which of its
// parts changed.
type Changes struct {
	Site, Zones, Config bool
	Paths               []string // the files, relative to the folder
	// Lost says edits may have gone unreported (the watcher's queue
	// overflowed): anything may have changed.
	Lost bool
}

func (c *Changes) any() bool { return c.Site || c.Zones || c.Config }

// watchQuiet is how long a folder must be still before a batch of
// edits is handed on: an editor's save by rename, or a git checkout,
// is one batch.
const watchQuiet = 20 * time.Millisecond

// watchMaxDelay hands a batch on even while edits keep coming.
const watchMaxDelay = 2 * time.Second

// folderWatch tells which paths of an appliance folder matter.
type folderWatch struct {
	dir, site, zones string // absolute; site and zones may be ""
}

// classify records in c what rel (relative to dir) is part of; false
// when it is not watched (build output, editors' scratch files).
func (w folderWatch) classify(abs string, c *Changes) bool {
	rel, err := filepath.Rel(w.dir, abs)
	if err != nil || ignoredPath(rel) {
		return false
	}
	switch {
	case rel == "islet.yml":
		c.Config = true
	case w.site != "" && within(w.site, abs):
		c.Site = true
	case w.zones != "" && within(w.zones, abs):
		c.Zones = true
	default:
		return false
	}
	c.Paths = append(c.Paths, filepath.ToSlash(rel))
	return true
}

func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// ignoredPath says a path of the folder is not an input: the build's
// and Jekyll's output and caches, version control, editors' scratch
// files (vim's 4913, .swp and ~ backups, emacs's .#locks).
func ignoredPath(rel string) bool {
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		switch part {
		case "_build", "_site", ".jekyll-cache", ".sass-cache", ".git", "node_modules":
			return true
		}
	}
	base := filepath.Base(rel)
	return base == "4913" || strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") ||
		strings.HasSuffix(base, ".swx") || strings.HasPrefix(base, ".#") || strings.HasSuffix(base, ".islet-new")
}

// Watch reports, on the returned channel, batches of edits to the
// appliance folder dir: its site and zones folders and islet.yml. It
// uses inotify (fsnotify), or polls every poll when poll > 0 or inotify
// is not available. The channel is closed when ctx ends.
func Watch(ctx context.Context, dir, siteDir, zonesDir string, poll time.Duration, log *slog.Logger) (<-chan Changes, error) {
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	w := folderWatch{dir: abs(dir), site: abs(siteDir), zones: abs(zonesDir)}
	out := make(chan Changes)
	if poll <= 0 {
		fw, err := fsnotify.NewWatcher()
		if err == nil {
			if err = w.addAll(fw); err == nil {
				go w.notify(ctx, fw, out, log)
				return out, nil
			}
			fw.Close()
		}
		log.Warn("watching by polling every second: inotify is not available", "err", err)
		poll = time.Second
	}
	go w.poll(ctx, poll, out)
	return out, nil
}

// addAll watches the folder (for islet.yml) and every folder of the
// site and the zones.
func (w folderWatch) addAll(fw *fsnotify.Watcher) error {
	if err := fw.Add(w.dir); err != nil {
		return err
	}
	for _, root := range []string{w.site, w.zones} {
		if root == "" {
			continue
		}
		if err := w.addTree(fw, root); err != nil {
			return err
		}
	}
	return nil
}

func (w folderWatch) addTree(fw *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if rel, _ := filepath.Rel(w.dir, p); p != root && ignoredPath(rel) {
			return filepath.SkipDir
		}
		return fw.Add(p)
	})
}

// notify turns inotify's events into debounced batches.
func (w folderWatch) notify(ctx context.Context, fw *fsnotify.Watcher, out chan<- Changes, log *slog.Logger) {
	defer close(out)
	defer fw.Close()
	var batch Changes
	var quiet, limit <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			log.Warn("watching the folder: edits may have been missed; rendering everything again", "err", err)
			batch.Site, batch.Zones, batch.Config, batch.Lost = w.site != "", w.zones != "", true, true
			quiet = time.After(watchQuiet)
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					w.addTree(fw, ev.Name) // a new folder: watch it, and what it holds is new
				}
			}
			if !w.classify(ev.Name, &batch) {
				continue
			}
			quiet = time.After(watchQuiet)
			if limit == nil {
				limit = time.After(watchMaxDelay)
			}
			continue
		case <-quiet:
		case <-limit:
		}
		if batch.any() {
			select {
			case out <- batch:
			case <-ctx.Done():
				return
			}
		}
		batch, quiet, limit = Changes{}, nil, nil
	}
}

// poll compares the folder's files' sizes and times every interval.
func (w folderWatch) poll(ctx context.Context, interval time.Duration, out chan<- Changes) {
	defer close(out)
	type stamp struct {
		size int64
		mod  time.Time
	}
	scan := func() map[string]stamp {
		m := map[string]stamp{}
		for _, root := range []string{filepath.Join(w.dir, "islet.yml"), w.site, w.zones} {
			if root == "" {
				continue
			}
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				if rel, _ := filepath.Rel(w.dir, p); ignoredPath(rel) {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if info, err := d.Info(); err == nil && !d.IsDir() {
					m[p] = stamp{info.Size(), info.ModTime()}
				}
				return nil
			})
		}
		return m
	}
	// changes classifies into batch what differs from before to now.
	changes := func(before, now map[string]stamp, batch *Changes) bool {
		found := false
		for p, s := range now {
			if old, ok := before[p]; !ok || old != s {
				found = w.classify(p, batch) || found
			}
		}
		for p := range before {
			if _, ok := now[p]; !ok {
				found = w.classify(p, batch) || found
			}
		}
		return found
	}
	settle := min(interval/2, 100*time.Millisecond)
	last := scan()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := scan()
		var batch Changes
		if changes(last, now, &batch) {
			// A file caught while it is written changes again a moment
			// later: the batch goes once a scan finds the folder as the
			// one before it did, and names that file once.
			for range 10 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(settle):
				}
				again := scan()
				if !changes(now, again, &batch) {
					break
				}
				now = again
			}
			batch.Paths = uniquePaths(batch.Paths)
		}
		last = now
		if batch.any() {
			select {
			case out <- batch:
			case <-ctx.Done():
				return
			}
		}
	}
}

// uniquePaths drops the repeats of paths, keeping the first of each.
func uniquePaths(paths []string) []string {
	seen := map[string]bool{}
	return slices.DeleteFunc(paths, func(p string) bool {
		if seen[p] {
			return true
		}
		seen[p] = true
		return false
	})
}
