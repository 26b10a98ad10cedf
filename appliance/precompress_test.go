package appliance

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"
)

// TestPrecompressed: text files worth it get .gz and .br siblings that
// unpack to the file; small files, images and files that bring their
// own do not; the result is a well-formed fs.FS.
func TestPrecompressed(t *testing.T) {
	page := []byte("<html><body>" + strings.Repeat("<p>islet serves this page</p>\n", 40) + "</body></html>\n")
	site := fstest.MapFS{
		"index.html":       {Data: page},
		"css/main.css":     {Data: bytes.Repeat([]byte("body { margin: 0 }\n"), 30)},
		"tiny.txt":         {Data: []byte("small")},
		"logo.png":         {Data: bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 200)},
		"own.js":           {Data: bytes.Repeat([]byte("var x = 1;\n"), 50)},
		"own.js.gz":        {Data: []byte("brought by the site")},
		"own.js.br":        {Data: []byte("brought by the site")},
		"blog/post/a.html": {Data: page},
	}
	out, err := Precompressed(site)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"index.html.gz", "index.html.br", "css/main.css.gz", "css/main.css.br", "blog/post/a.html.gz", "blog/post/a.html.br"}
	for _, name := range want {
		b, err := fs.ReadFile(out, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		orig := site[strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".br")].Data
		var r io.Reader
		if strings.HasSuffix(name, ".gz") {
			if r, err = gzip.NewReader(bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		} else {
			r = brotli.NewReader(bytes.NewReader(b))
		}
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, orig) || len(b) >= len(orig) {
			t.Errorf("%s: %d bytes for %d, unpacks equal: %v (%v)", name, len(b), len(orig), bytes.Equal(got, orig), err)
		}
	}
	for _, name := range []string{"tiny.txt.gz", "logo.png.br", "own.js.gz.gz"} {
		if _, err := fs.Stat(out, name); err == nil {
			t.Errorf("%s was made", name)
		}
	}
	if b, _ := fs.ReadFile(out, "own.js.gz"); string(b) != "brought by the site" {
		t.Errorf("the site's own own.js.gz was replaced: %q", b)
	}
	var all []string
	for name := range site {
		all = append(all, name)
	}
	if err := fstest.TestFS(out, append(all, want...)...); err != nil {
		t.Error(err)
	}
}
