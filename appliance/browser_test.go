//go:build peers && !guest

package appliance

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"islet.dev/islet/internal/testpeer"
)

// browser starts a headless Chromium from Debian that reaches every name
// at 127.0.0.1 and takes islet run's self-signed certificate.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := testpeer.Require(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // tests run as root
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("host-resolver-rules", "MAP * 127.0.0.1"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// waitJS evaluates expr in the page until it is true, and returns how
// long that took.
func waitJS(t *testing.T, ctx context.Context, expr string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
			t.Fatalf("%s not true within %v (%v):\n%s", expr, within, err, text)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLiveReloadInBrowser opens a post of the site islet run serves in
// Chromium, edits its source and sees the page change without reloading
// it by hand; edits the style sheet and sees the computed style change
// with no reload of the page; edits an image the page shows and sees
// the page reload; edits the post again and sees its new body put in
// place without a reload; breaks a Liquid tag and sees the overlay with
// the file and line, then fixes it and sees the page.
func TestLiveReloadInBrowser(t *testing.T) {
	dir := devFolder(t)
	d := startDevelop(t, dir)
	ctx := browser(t)
	_, port, _ := net.SplitHostPort(d.ready.HTTPS.String())
	url := fmt.Sprintf("https://dev.example:%s/2024/01/02/hi.html", port)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.body.innerText.includes("first words")`, 5*time.Second)
	time.Sleep(100 * time.Millisecond) // the event stream is open

	write(t, dir, "site/_posts/2024-01-02-hi.md", "---\nlayout: default\ntitle: Hi\n---\nsecond words\n")
	took := waitJS(t, ctx, `document.body.innerText.includes("second words")`, 5*time.Second)
	t.Logf("a post's text edited: in the browser in %v", took)

	// a mark on the page tells whether it was reloaded
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.isletMark = 42`)); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "site/assets/style.css", "body { color: rgb(255, 0, 0) }\n")
	took = waitJS(t, ctx, `getComputedStyle(document.body).color === "rgb(255, 0, 0)"`, 5*time.Second)
	t.Logf("the style sheet edited: in the browser in %v", took)
	if mark, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.isletMark || 0`)); err != nil || mark != 42 {
		t.Errorf("the page was reloaded for a CSS edit (mark %d, %v); want the style sheet swapped alone", mark, err)
	}

	// an image the page shows: the page reloads
	write(t, dir, "site/assets/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"20\"></svg>\n")
	took = waitJS(t, ctx, `window.isletMark === undefined && document.querySelector("img").naturalWidth === 20`, 5*time.Second)
	t.Logf("an image the page shows edited: reloaded in %v", took)

	// its own text: the new body in place, no reload
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.isletMark = 43`)); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "site/_posts/2024-01-02-hi.md", "---\nlayout: default\ntitle: Hi\n---\nthird words\n")
	waitJS(t, ctx, `document.body.innerText.includes("third words") && window.isletMark === 43`, 5*time.Second)

	write(t, dir, "site/_posts/2024-01-02-hi.md", "---\nlayout: default\ntitle: Hi\n---\n{% if %}broken\n")
	waitJS(t, ctx, `(document.getElementById("islet-render-error") || {textContent: ""}).textContent.includes("2024-01-02-hi.md:5: ")`, 5*time.Second)
	under, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if !strings.Contains(under, "third words") {
		t.Errorf("under the overlay: %q, want the last good page", under)
	}
	write(t, dir, "site/_posts/2024-01-02-hi.md", "---\nlayout: default\ntitle: Hi\n---\nmended\n")
	waitJS(t, ctx, `!document.getElementById("islet-render-error") && document.body.innerText.includes("mended")`, 5*time.Second)
}
