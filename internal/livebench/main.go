// Command livebench measures a live-reloading development server from
// the file being written to the browser showing it: it opens a page in
// headless Chromium, writes a new token into a source file, and times
// until the page's text holds it, ROUNDS times. bench/livereload.sh runs
// it against islet run and jekyll serve --livereload.
//
//	livebench -url http://127.0.0.1:4000/2024/01/01/post-1.html -file SRC/_posts/2024-01-01-post-1.md -rounds 10
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	url := flag.String("url", "", "the page to open")
	file := flag.String("file", "", "the source file to edit")
	before := flag.String("before", "", "write the token before the first occurrence of this text (default: at the end)")
	rounds := flag.Int("rounds", 10, "edits to time")
	timeout := flag.Duration("timeout", 60*time.Second, "the longest one edit may take to show")
	chromium := flag.String("chromium", "chromium", "the browser")
	flag.Parse()
	if err := run(*url, *file, *before, *chromium, *rounds, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "livebench:", err)
		os.Exit(1)
	}
}

func run(url, file, before, chromium string, rounds int, timeout time.Duration) error {
	orig, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	defer os.WriteFile(file, orig, 0o644)
	if before != "" && !strings.Contains(string(orig), before) {
		return fmt.Errorf("%s holds no %q", file, before)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.Flag("host-resolver-rules", "MAP * 127.0.0.1"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	time.Sleep(time.Second) // the page's live-reload connection is up
	var times []time.Duration
	for i := range rounds {
		token := fmt.Sprintf("livebench%dx%d", time.Now().UnixNano(), i)
		edited := string(orig) + "\n\n" + token + "\n"
		if before != "" {
			edited = strings.Replace(string(orig), before, token+" "+before, 1)
		}
		start := time.Now()
		if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
			return err
		}
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body !== null && document.body.innerText.includes("`+token+`")`))
			if err == nil && ok {
				break
			}
			if time.Since(start) > timeout {
				return fmt.Errorf("round %d: %s not shown after %v (%v)", i+1, token, timeout, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		d := time.Since(start)
		times = append(times, d)
		fmt.Printf("  round %d: %d ms\n", i+1, d.Milliseconds())
		time.Sleep(500 * time.Millisecond)
	}
	slices.Sort(times)
	fmt.Printf("median %d ms, min %d ms, max %d ms\n", times[len(times)/2].Milliseconds(), times[0].Milliseconds(), times[len(times)-1].Milliseconds())
	return nil
}
