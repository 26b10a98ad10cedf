//go:build !guest

package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"islet.dev/islet/site"
	"islet.dev/islet/tls/web"
)

// Develop serves the appliance in dev.Dir as Run does, its site
// rendered from its source. While watching, an edit to the site renders
// again only what it affects (the incremental render's dependency
// tracking) and the new site is swapped in whole: a request sees the
// old site or the new, never a mix. A render that fails leaves the last
// good site served, and says why on Stderr and in the pages. An edit to
// the zones reloads them (bad zones keep the old ones); one to
// islet.yml applies its hosts and redirects.
func Develop(ctx context.Context, opt Options, dev DevOptions) error {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dev.Stderr == nil {
		dev.Stderr = io.Discard
	}
	cfg, err := LoadConfig(dev.Dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var b *liveBuilder
	if src := cfg.SiteDir(); src != "" && opt.HTTPS.SiteDir == "" && opt.HTTPS.SiteFS == nil {
		if b, err = newLiveBuilder(dev, src, opt.HTTPS.SiteInclude, log); err != nil {
			return err
		}
		defer b.close()
		if err := b.build(ctx); err != nil {
			return err
		}
		opt.HTTPS.SiteHandler = b.live
	}
	if !dev.Watch {
		return Run(ctx, opt)
	}
	changes, err := Watch(ctx, dev.Dir, cfg.SiteDir(), cfg.ZonesDir(), dev.Poll, log)
	if err != nil {
		return err
	}
	reload := make(chan struct{}, 1)
	hosts := make(chan []web.Host, 1)
	if opt.Reload != nil {
		go forward(ctx, opt.Reload, reload)
	}
	opt.Reload, opt.Hosts = reload, hosts
	current := cfg.TLSHosts()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ch := range changes {
			if ch.Config {
				if next, err := LoadConfig(dev.Dir); err != nil {
					fmt.Fprintf(dev.Stderr, "%v\n", err)
					log.Error("islet.yml not applied; the hosts stay as they were", "err", err)
				} else if h := next.TLSHosts(); !reflect.DeepEqual(h, current) && len(h) > 0 {
					current = h
					select {
					case hosts <- h:
					case <-ctx.Done():
					}
				}
			}
			if ch.Zones {
				select {
				case reload <- struct{}{}:
				default: // one is pending already
				}
			}
			if ch.Site && b != nil {
				b.forget(dev.Dir, ch)
				b.build(ctx)
			}
		}
	}()
	err = Run(ctx, opt)
	cancel()
	wg.Wait()
	return err
}

// forward passes each signal from in to out until ctx ends.
func forward(ctx context.Context, in <-chan struct{}, out chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-in:
			if !ok {
				return
			}
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}
}

// liveBuilder renders the site incrementally and swaps each good render
// in.
type liveBuilder struct {
	dev     DevOptions
	dir     string
	root    *os.Root
	src     *cachedFS // root's files as the last render read them
	opt     site.Options
	include []string
	log     *slog.Logger
	live    *liveSite
	state   *site.State // the last good render's, for the next
	renders int
}

func newLiveBuilder(dev DevOptions, dir string, include []string, log *slog.Logger) (*liveBuilder, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	opt, err := renderOptions(false)
	if err != nil {
		root.Close()
		return nil, err
	}
	opt.Drafts, opt.Future, opt.Unpublished = dev.Drafts, dev.Future, dev.Unpublished
	opt.Incremental = true // from the state the last render left in memory
	return &liveBuilder{dev: dev, dir: dir, root: root, src: newCachedFS(root.FS()), opt: opt, include: include, log: log}, nil
}

// build renders the site and serves it; a failed render leaves the
// site served before, and is told to the pages and to Stderr.
func (b *liveBuilder) build(ctx context.Context) error {
	start := time.Now()
	b.renders++
	opt := b.opt
	opt.Previous = b.state
	out, err := renderFrom(ctx, b.src, b.dir, opt, b.log)
	var s *web.Site
	if err == nil {
		var fsys = out.FS()
		if b.dev.LiveReload {
			fsys = injectFS{fsys}
		}
		so := web.SiteOptions{ModTime: time.Now().Truncate(time.Second), Logger: b.log.With("component", "https"), Include: b.include,
			NoCompress: true, Revalidate: true, Paths: out.Paths()}
		if b.live != nil {
			so.Previous, so.Unchanged = b.live.cur.Load(), out.Unchanged
		}
		rendered := time.Now()
		s, err = web.NewSite(fsys, so)
		b.log.Debug("site indexed", "component", "site", "render", rendered.Sub(start).Round(time.Millisecond), "index", time.Since(rendered).Round(time.Millisecond))
	}
	if err != nil {
		msg := sourceError(b.dir, err)
		fmt.Fprintln(b.dev.Stderr, msg)
		b.log.Error("the site did not render; the last good one stays served", "component", "site", "err", msg)
		if b.live != nil {
			b.live.hub.fail(msg)
		}
		if b.dev.Rendered != nil {
			b.dev.Rendered(err, nil)
		}
		return err
	}
	b.state = out.State()
	changed := out.Changed()
	if b.live == nil {
		b.live = newLiveSite(s)
	} else {
		old := b.live.swap(s)
		// requests still reading the old site's large files finish first
		time.AfterFunc(time.Minute, func() { old.Close() })
		b.live.hub.reload(changed)
	}
	b.log.Info("site served", "component", "site", "changed", len(changed), "took", time.Since(start).Round(time.Millisecond))
	if b.dev.Rendered != nil {
		b.dev.Rendered(nil, changed)
	}
	return nil
}

// forget drops what the source cache holds of the files ch names.
func (b *liveBuilder) forget(appDir string, ch Changes) {
	if ch.Lost {
		b.src.forgetAll()
		return
	}
	for _, p := range ch.Paths {
		rel, err := filepath.Rel(b.dir, filepath.Join(appDir, filepath.FromSlash(p)))
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		b.src.forget(filepath.ToSlash(rel))
	}
}

// sourceError is a render error as file:line: message, the file's path
// as the user gave the folder ("site/_posts/x.md:5: ..."), so that an
// editor or terminal can open it.
func sourceError(dir string, err error) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, dir+": ")
	if !ok {
		return msg
	}
	if file, _, ok := strings.Cut(rest, ":"); ok && file != "" && !strings.Contains(file, " ") {
		if _, serr := os.Stat(filepath.Join(dir, filepath.FromSlash(file))); serr == nil {
			return filepath.Join(dir, filepath.FromSlash(file)) + rest[len(file):]
		}
	}
	return msg
}

func (b *liveBuilder) close() {
	if b.live != nil {
		b.live.cur.Load().Close()
	}
	b.root.Close()
}
