package plugins

import (
	"fmt"
	"strings"
	"sync"

	"islet.dev/islet/site/liquid"
)

// gist is jekyll-gist 1.5: {% gist ID [FILE] %} (ID may be user/id, or
// a variable holding it) writes the gist's script tag. The plugin also
// fetches the gist's text over the network for a <noscript> copy; a
// render is offline and reproducible, so islet leaves that out and says
// so once per gist, as the plugin warns when its fetch fails (gist:
// {noscript: false} asks for no copy, and no warning).
type gist struct{}

func (gist) Name() string        { return "jekyll-gist" }
func (gist) Generate(Site) error { return nil }
func (gist) Tags(s Site) map[string]TagParser {
	var warned sync.Map
	return map[string]TagParser{"gist": func(markup string) (liquid.Node, error) {
		f := strings.Fields(markup)
		var id, file string
		switch {
		case len(f) == 1:
			id = f[0]
		case len(f) == 2:
			id, file = f[0], f[1]
		case len(f) > 2 && strings.Contains(markup, "/"):
			id, file = strings.Join(f[:len(f)-1], " "), f[len(f)-1]
		default:
			return nil, fmt.Errorf("syntax error in tag 'gist': valid syntax: {%% gist user/1234567 %%}, {%% gist user/1234567 foo.js %%}, {%% gist 28949e1d5ee2273f9fd3 %%}")
		}
		return &gistTag{s: s, id: id, file: file, warned: &warned}, nil
	}}
}

type gistTag struct {
	s        Site
	id, file string
	warned   *sync.Map
}

func (g *gistTag) Render(c *liquid.Context, w *strings.Builder) error {
	id, file := g.id, g.file
	if v := lookupPath(c, id); v != nil {
		id = liquid.ToString(v)
	}
	if file != "" {
		if v := lookupPath(c, file); v != nil {
			file = liquid.ToString(v)
		}
	}
	noscript := liquid.Lookup(liquid.Lookup(g.s.Config(), "gist"), "noscript")
	if noscript != false {
		if _, dup := g.warned.LoadOrStore(id, true); !dup {
			g.s.Warn(c.File(), 0, fmt.Sprintf("gist %s: its <noscript> copy is not made (a render does not fetch from the network), as jekyll-gist leaves it out when its fetch fails; gist: {noscript: false} says that is meant", id))
		}
	}
	url := "https://gist.github.com/" + id + ".js"
	if file != "" {
		url += "?file=" + file
	}
	w.WriteString(`<script src="` + url + `"> </script>`)
	return nil
}
