//go:build !guest

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"islet.dev/islet/site"
)

func cmdRender(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	drafts := fs.Bool("drafts", false, "render posts in _drafts")
	future := fs.Bool("future", false, "publish posts dated after site.time")
	unpublished := fs.Bool("unpublished", false, "render documents marked published: false")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	themeDir := fs.String("theme-dir", "", "`DIR` of the site's theme (default: the installed gem)")
	strict := fs.Bool("strict", false, "fail when the render has warnings (what islet does otherwise than Jekyll, what Jekyll itself warns about)")
	cacheDir := fs.String("cache", "", "`DIR` remembering what was rendered: unchanged documents are not rendered again, unchanged files not rewritten")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the whole run to `FILE` (for go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: islet render [flags] SRC DST\n\nRenders the Jekyll source tree SRC into DST, as jekyll build -s SRC -d DST does.\nDST is replaced only when the whole render succeeds. jekyll.environment is\n$JEKYLL_ENV (default development).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "islet render: --log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	collectForRender()
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		fmt.Fprintf(stderr, "islet render: --cpu-profile: %v\n", err)
		return 2
	}
	defer stopProfile()
	root, err := site.OpenSource(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "islet render: %v\n", err)
		return 1
	}
	defer root.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	opt := site.Options{
		Drafts: *drafts, Future: *future, Unpublished: *unpublished, Environment: os.Getenv("JEKYLL_ENV"), ThemeDir: *themeDir,
		Strict: *strict, Getenv: os.Getenv,
	}
	var hash string
	cache := site.Cache{Dir: *cacheDir}
	if *cacheDir != "" {
		if hash, err = site.InputHash(root, opt); err != nil {
			fmt.Fprintf(stderr, "islet render: %s: %v\n", fs.Arg(0), err)
			return 1
		}
		if cache.Fresh(fs.Arg(1), hash) {
			fmt.Fprintf(stdout, "%s is up to date (checked in %v)\n", fs.Arg(1), time.Since(start).Round(time.Millisecond))
			return 0
		}
	}
	if *cacheDir != "" {
		opt.StateDir = cache.StateDir(fs.Arg(1))
	}
	out, err := site.Render(ctx, root, opt, log)
	if err != nil {
		fmt.Fprintf(stderr, "islet render: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	for _, w := range out.Warnings {
		fmt.Fprintln(stderr, w)
	}
	if err := out.WriteChanged(fs.Arg(1)); err != nil {
		fmt.Fprintf(stderr, "islet render: %v\n", err)
		return 1
	}
	if hash != "" {
		if err := cache.Record(fs.Arg(1), hash); err != nil {
			fmt.Fprintf(stderr, "islet render: --cache: %v\n", err)
			return 1
		}
	}
	reused := ""
	if out.Reused > 0 {
		reused = fmt.Sprintf(" (%d documents unchanged)", out.Reused)
	}
	warned := ""
	if n := len(out.Warnings); n > 0 {
		warned = fmt.Sprintf(", %d warning(s) (--strict makes them errors)", n)
	}
	fmt.Fprintf(stdout, "rendered %d files into %s in %v%s%s\n", len(out.Paths()), fs.Arg(1), time.Since(start).Round(time.Millisecond), reused, warned)
	return 0
}
