package site

import (
	"context"
	"testing"
)

// FuzzRender: any page source (front matter, Liquid, Markdown) renders
// or fails with an error; it never panics.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"---\ntitle: x\n---\n# Hi {{ page.title }}\n",
		"---\n---\n| a | b |\n|---|:-:|\n| 1 | 2 |\n\n[^1]\n\n[^1]: note\n",
		"---\nlayout: d\npermalink: /:title/\n---\n```go\nfunc x() {}\n```\n- [ ] task\n",
		"---\n- list\n---\n",
		"---\ndate: 2020-13-45\n---\n",
		"---\n---\n{% include a.html x=\"1\" %}{% highlight ruby linenos %}x{% endhighlight %}",
		"no front matter {{ x }}",
		"---\n---\n1. a\n  * b\n * c\n2. d\n- e\n 1. f\n\n* * *\n",
		"---\n---\n{: .a}\npara\n\n{: #b}\n\n## h\n{: .c}\n",
		"---\n---\n* TOC\n{:toc}\n\n# a\n\n### b &amp; c\n\n$$x < y$$ and\n\n$$\nz\n$$\n",
		"---\n---\n<div markdown=\"1\">\n*a*\n</div>\n<p markdown=\"1\">\n  `b`'s\n</p>\n<span markdown=\"0\">c</span>\n\n{: .q}\n> d\n",
		"---\n---\n1. a\n```sh\nb\n```\n2. c\n\n- d\n  - e\n\n- f\n\n| g |   |\n|---|---|\n<br>x<img src=y>\r\n",
		"---\n---\n{:n: .x #y}\np\n{: n}\n{::comment}a{:/comment} {::nomarkdown}*b*{:/nomarkdown}\n{::options toc_levels=\"1..2\" /}\n{::nomarkdown}\n<i>\n{:/nomarkdown}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, page string) {
		fsys := mapFS(map[string]string{
			"index.md":               page,
			"_posts/2020-01-01-p.md": page,
			"_layouts/d.html":        "{{ content }}",
			"_includes/a.html":       "{{ include.x }}",
			"_config.yml":            "time: 2020-01-01\n",
		})
		Render(context.Background(), fsys, Options{}, nil)
	})
}
