package site

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"islet.dev/islet/site/liquid"
)

// compressReleases are the layouts of jekyll-compress-html as its
// releases ship them.
var compressReleases = []string{"v3.0.4", "v3.1.0", "v3.2.0"}

// compressRelease reads a release's layout body (after its front
// matter) from _third_party.
func compressRelease(t testing.TB, release string) string {
	t.Helper()
	file := filepath.Join("..", "_third_party", "jekyll-compress-html", "compress-"+release+".html")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, body, _, ok, err := splitFrontMatter(file, src)
	if err != nil || !ok {
		t.Fatalf("%s: front matter: %v", file, err)
	}
	return body
}

func TestCompressHTMLRecognized(t *testing.T) {
	for _, r := range compressReleases {
		body := compressRelease(t, r)
		k := recognizeCompressHTML(body)
		if k == nil || k.release != r {
			t.Fatalf("%s: not recognized (%v)", r, k)
		}
		if k.lead+"{% capture" != body[:len(k.lead)+10] || k.trail != "\n" {
			t.Errorf("%s: lead %q, trail %q", r, k.lead, k.trail)
		}
		// any other Liquid is the template's
		for _, other := range []string{
			strings.Replace(body, `"all"`, `"al"`, 1),
			strings.Replace(body, "{% endif %}", "{% endif %}x", 1),
			strings.TrimSuffix(body, "\n") + "x\n",
		} {
			if recognizeCompressHTML(other) != nil {
				t.Errorf("%s: an edited copy is taken for the release", r)
			}
		}
	}
}

// compressPages are pages the differential tests compress: each part
// of the layout, and the ways its steps meet.
var compressPages = []string{
	"",
	"plain text",
	"<html>\n  <head>\n    <title> A  page </title>\n  </head>\n  <body>\n    <p>One  <b>two</b> three</p>\n  </body>\n</html>\n",
	"<ul>\n  <li>one</li>\n  <li> two </li>\n</ul> <p> x </p> <pre> keep   this\n\n  </pre> after  <p>p</p>",
	"<table> <thead> <tr> <th>a</th> <th> b </th> </tr> </thead> <tbody> <tr> <td>1</td> </tr> </tbody> </table>",
	"<colgroup> <col> </colgroup> <col> <caption> c </caption>",
	"a <!-- one --> b <!-- two -- > c --> d <!-- open",
	"<!----> x <!-- <!-- y --> --> z",
	"--> before <!-- a --> after <!-- b",
	"<pre>a  b</pre><pre>c\n\n d</pre> e  f <pre>unclosed   g",
	"x </pre> y <pre> z </pre></pre> w",
	"<pre class=\"x\">\n  code\n</pre>\n\n\n<p>after</p>\n   \n<div>\n \t\n</div>\n",
	"text\u00a0with\u00a0nbsp  and\x00nul \t tabs",
	"a < b </li> c > d",
	"x <</li>/td> y </td>",
	"<<html> </html>>",
	"<p>a</p>  <p>b</p>   <pre>c</pre>  <p>d</p>",
	"<h1> t </h1>\n<h2>u</h2> <hr> <div> <section> <article> x </article> </section> </div>",
	"</p> </p>  </p>   <p  <p>",
	"<figure> <figcaption> x </figcaption> </figure> <main> </main> <nav> </nav>",
	"<script>if (a < b && c > d) {}</script> </li> <style> p > a { } </style>",
	"<optgroup><option>a</option></optgroup><dl><dt>t</dt><dd>d</dd></dl>",
	"<a href=x>link</a> <img src=y> <br/> <input>",
	"\n\n\n",
	"   leading and trailing   ",
	"<p>é ü  漢字</p>  <p> ok </p>",
	// two elements clip before one tag (<head and <header): in a pre,
	// where runs of spaces are kept
	"<pre>a  <header>  b  </header>  c\t <colgroup>  <thead> </pre> <p> d </p>",
}

// compressConfigs are compress_html settings, as YAML gives them. The
// layout reads no "left" key: it marks the settings left to the
// template (a string or a number where a list belongs, profile on).
var compressConfigs = []map[string]any{
	nil,
	{},
	{"clippings": "all", "comments": "all", "endings": "all"},
	{"clippings": "all", "comments": "all", "endings": "all", "startings": []any{"html", "head", "body"}, "blanklines": true},
	{"clippings": []any{"p", "li", "div"}, "endings": []any{"p", "li"}},
	{"clippings": []any{"col", "th", "h1"}, "comments": []any{"<!--", "-->"}},
	{"comments": []any{"<!--", "-->", "x"}},
	{"comments": []any{"a", "b"}, "blanklines": false},
	{"comments": []any{" ", "-->"}},
	{"clippings": []any{"e", "pre", "a"}, "startings": []any{"p"}},
	{"clippings": []any{"a b", "x;y", "", "<p", "/li"}},
	{"endings": []any{"", "a<b", "p>"}},
	{"endings": "none", "clippings": "nothing", "left": true},
	{"endings": []any{1, "p"}, "left": true},
	{"clippings": "all", "ignore": map[string]any{"envs": []any{"development"}}},
	{"clippings": "all", "ignore": map[string]any{"envs": []any{"production"}}},
	{"clippings": "all", "ignore": map[string]any{"envs": "all"}},
	{"clippings": "all", "ignore": map[string]any{"envs": "productions"}},
	{"clippings": "all", "profile": true, "left": true},
	{"clippings": "all", "blanklines": "yes"},
}

// compressBoth renders page through the release's Liquid and natively
// and returns both; native is "" when the layout was left to Liquid.
func compressBoth(t testing.TB, e *liquid.Engine, tpl *liquid.Template, k *compressHTML, page string, cfg map[string]any, vars map[string]any) (viaLiquid, native string, ran bool) {
	t.Helper()
	mk := func() *liquid.Context {
		v := map[string]any{
			"content": page,
			"site":    map[string]any{"compress_html": cfg, "time": "2024-01-01"},
			"jekyll":  map[string]any{"environment": "production"},
			"page":    map[string]any{},
		}
		if cfg == nil {
			v["site"] = map[string]any{}
		}
		for k, x := range vars {
			v[k] = x
		}
		return e.NewContext(v, nil)
	}
	var w strings.Builder
	if err := tpl.RenderTo(mk(), &w); err != nil {
		t.Fatalf("template: %v", err)
	}
	var n strings.Builder
	ran = k.render(mk(), page, &n)
	if !ran && n.Len() > 0 {
		t.Fatalf("left to the template, but wrote %q", n.String())
	}
	return w.String(), n.String(), ran
}

func compressSetup(t testing.TB, release string) (*liquid.Engine, *liquid.Template, *compressHTML) {
	body := compressRelease(t, release)
	e := liquid.New()
	tpl, err := e.Parse("compress.html", body)
	if err != nil {
		t.Fatal(err)
	}
	k := recognizeCompressHTML(body)
	if k == nil {
		t.Fatalf("%s not recognized", release)
	}
	return e, tpl, k
}

// TestCompressHTMLMatchesLiquid: the layout run natively writes what
// its Liquid writes, page for page, under every setting; and it runs
// natively for the settings real sites use.
func TestCompressHTMLMatchesLiquid(t *testing.T) {
	for _, r := range compressReleases {
		e, tpl, k := compressSetup(t, r)
		for ci, cfg := range compressConfigs {
			for pi, page := range compressPages {
				for _, vars := range []map[string]any{nil, {"_carry": true}, {"page": map[string]any{"compress_html": false}}} {
					want, got, ran := compressBoth(t, e, tpl, k, page, cfg, vars)
					if ran && got != want {
						t.Errorf("%s, settings %d %v, page %d %q, vars %v:\nLiquid %q\nnative %q", r, ci, cfg, pi, page, vars, want, got)
					}
				}
			}
		}
		// the settings of real sites are run natively; profile is not
		for _, cfg := range compressConfigs {
			_, _, ran := compressBoth(t, e, tpl, k, compressPages[2], cfg, nil)
			if left := cfg["left"] == true; ran == left {
				t.Errorf("%s, settings %v: run natively %v", r, cfg, ran)
			}
		}
	}
}

// TestCompressHTMLUnsafeJoin: a removal that joins text into a new tag
// is found, and the removes are then made in turn.
func TestCompressHTMLUnsafeJoin(t *testing.T) {
	tags := map[string]bool{"</li>": true, "</td>": true}
	if _, ok := removeWholeTags("x <</li>/td> y", tags, 5); ok {
		t.Error("<</li>/td> taken as safe")
	}
	if got, ok := removeWholeTags("a</li> <b>c</td>", tags, 5); !ok || got != "a <b>c" {
		t.Errorf("got %q, %v", got, ok)
	}
	if got := removeTags("x <</li>/td> y", []string{"li", "td"}, nil); got != "x  y" {
		t.Errorf("in turn: %q", got)
	}
}

func FuzzCompressHTML(f *testing.F) {
	for _, p := range compressPages {
		f.Add(p, uint8(2), "p")
	}
	f.Add("a <pre> b </pre> c", uint8(3), "pre")
	f.Add("<x> <y> </x> </y>", uint8(9), "x")
	e, tpl, k := compressSetup(f, "v3.1.0")
	f.Fuzz(func(t *testing.T, page string, setting uint8, element string) {
		cfg := map[string]any{}
		for name, v := range compressConfigs[int(setting)%len(compressConfigs)] {
			cfg[name] = v
		}
		switch setting / 32 {
		case 1:
			cfg["clippings"] = []any{element, "p"}
		case 2:
			cfg["endings"] = []any{element}
		case 3:
			cfg["comments"] = []any{"<!--", element}
		}
		want, got, ran := compressBoth(t, e, tpl, k, page, cfg, nil)
		if ran && got != want {
			t.Fatalf("settings %v, page %q:\nLiquid %q\nnative %q", cfg, page, want, got)
		}
	})
}
