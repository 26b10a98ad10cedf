package plugins

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReserialize: any input is written back without a panic, as valid
// UTF-8 when it was, and writing the result back again changes nothing
// (libxml2's serialisation of its own output is that output).
func FuzzReserialize(f *testing.F) {
	for _, s := range []string{
		`<p>Hello @octocat<br /> <img src="a b.png" alt="x"/></p>`,
		`<div class='s' data-x="a&quot;b">@in-div</div></span><p>open<p>two<ul><li>a<li>b</ul>`,
		`<a href="/x?a=1&amp;b=2 c/é" name="a b">@l</a><input checked="checked" disabled>`,
		`<script>var a = "@s" && 1 < 2;</script><!-- @c --><svg viewBox="0 0 1 1"><path d="M0"/></svg>`,
		`<table><tr><td>a<td>b</tr></table><textarea>&lt;b&gt; @ta</textarea><pre>
@inpre</pre>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		link := func(login string) string {
			return `<a href="https://github.com/` + login + `" class="user-mention">@` + login + "</a>"
		}
		filter := func(text string, skipped bool) string {
			if skipped {
				return text
			}
			return replaceMentions(text, link)
		}
		once := reserialize(src, mentionSkip, filter)
		if utf8.ValidString(src) && !utf8.ValidString(once) {
			t.Fatalf("%q: invalid UTF-8 out: %q", src, once)
		}
		if strings.ContainsRune(src, 0) || strings.Contains(src, "\r") {
			return // the tokenizer rewrites NULs and CRs on the first pass only
		}
		if twice := reserialize(once, mentionSkip, func(text string, _ bool) string { return text }); twice != once {
			t.Fatalf("%q:\nonce:  %q\ntwice: %q", src, once, twice)
		}
	})
}
