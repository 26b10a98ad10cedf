//go:build !guest

package appliance

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"time"

	"islet.dev/islet/site"
	"islet.dev/islet/tls/web"
)

// RenderSite renders the Jekyll source tree dir (an appliance's site/)
// as jekyll build would and returns the output. jekyll.environment is
// $JEKYLL_ENV, "production" when unset: an appliance serves the real
// site. site.time is _config.yml's time:, else $SOURCE_DATE_EPOCH,
// else now.
// Warnings go to log; strict makes them errors (islet build).
// The guest binary (build tag guest) has no renderer: it serves the
// tree islet build rendered.
func RenderSite(ctx context.Context, dir string, strict bool, log *slog.Logger) (RenderedSite, error) {
	root, err := site.OpenSource(dir)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	// The output reads static files from the source on demand: the
	// root stays open for as long as the output is served.
	opt, err := renderOptions(strict)
	if err != nil {
		root.Close()
		return nil, err
	}
	out, err := renderFrom(ctx, root, dir, opt, log)
	if err != nil {
		root.Close()
		return nil, err
	}
	return renderedSite{out, root}, nil
}

// renderOptions are the options of an appliance's render: the
// environment of $JEKYLL_ENV, production when unset; site.time from
// $SOURCE_DATE_EPOCH when set.
func renderOptions(strict bool) (site.Options, error) {
	env := os.Getenv("JEKYLL_ENV")
	if env == "" {
		env = "production"
	}
	opt := site.Options{Environment: env, Strict: strict, Getenv: os.Getenv}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return opt, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
		}
		opt.Now = time.Unix(n, 0).UTC()
	}
	return opt, nil
}

// renderFrom renders the source tree src (the folder dir) and checks
// its _headers file; warnings go to log.
func renderFrom(ctx context.Context, src fs.FS, dir string, opt site.Options, log *slog.Logger) (*site.Output, error) {
	start := time.Now()
	out, err := site.Render(ctx, src, opt, log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if err := web.CheckHeadersFile(out.FS()); err != nil {
		return nil, fmt.Errorf("%s: rendered site: %w", dir, err)
	}
	if log != nil {
		for _, w := range out.Warnings {
			log.Warn(w.String(), "component", "site")
		}
		log.Info("site rendered", "dir", dir, "files", len(out.Paths()), "reused", out.Reused, "warnings", len(out.Warnings), "took", time.Since(start).Round(time.Millisecond))
	}
	return out, nil
}

// RenderedSite is a rendered site: its files and their paths. Static
// files are read from the source tree when asked for: Close releases it
// once the site is no longer served or packed.
type RenderedSite interface {
	FS() fs.FS
	Paths() []string
	Close() error
}

// renderedSite is a render's output and the source tree it reads from.
type renderedSite struct {
	*site.Output
	root *site.SourceDir
}

func (r renderedSite) Close() error { return r.root.Close() }
