package plugins

import (
	"path"
	"strconv"
	"strings"

	"islet.dev/islet/site/liquid"
)

// paginate is jekyll-paginate: the index.html in paginate_path's folder
// (or the nearest one above it) lists the posts paginate at a time as
// paginator.posts; pages 2… are copies of it at paginate_path.
type paginate struct{}

func (paginate) Name() string                   { return "jekyll-paginate" }
func (paginate) Tags(Site) map[string]TagParser { return nil }

func (paginate) Generate(s Site) error {
	per, _ := liquid.Lookup(s.Config(), "paginate").(int)
	if per <= 0 {
		return nil
	}
	pp := "/" + strings.TrimPrefix(liquid.LookupString(s.Config(), "paginate_path"), "/")
	pdir := strings.TrimPrefix(path.Dir(pp), "/")
	var tpl Page
	for _, p := range s.Pages() {
		if path.Base(p.Rel()) != "index.html" || p.Generated() != "" {
			continue
		}
		dir := path.Dir(p.Rel())
		if dir == "." {
			dir = ""
		}
		if pdir != dir && !strings.HasPrefix(pdir, dir+"/") && dir != "" {
			continue
		}
		if tpl == nil || len(p.Rel()) > len(tpl.Rel()) {
			tpl = p
		}
	}
	if tpl == nil {
		s.Warn("_config.yml", 0, "paginate: pagination is on, but there is no index.html to use as its template: skipped, as jekyll-paginate skips it")
		return nil
	}
	var posts []any
	for _, p := range s.Posts() {
		if !liquid.Truthy(liquid.Lookup(p.Data(), "hidden")) {
			posts = append(posts, p.Drop())
		}
	}
	total := (len(posts) + per - 1) / per
	pathOf := func(n int) any {
		if n <= 0 {
			return nil
		}
		if n == 1 {
			return tpl.URL()
		}
		return strings.Replace(pp, ":num", strconv.Itoa(n), 1)
	}
	for n := 1; n <= total; n++ {
		from, to := (n-1)*per, min(n*per, len(posts))
		pager := liquid.NewMap()
		pager.Set("page", n)
		pager.Set("per_page", per)
		pager.Set("posts", posts[from:to])
		pager.Set("total_posts", len(posts))
		pager.Set("total_pages", total)
		prev, next := 0, 0
		if n > 1 {
			prev = n - 1
		}
		if n < total {
			next = n + 1
		}
		pager.Set("previous_page", orNil(prev))
		pager.Set("previous_page_path", pathOf(prev))
		pager.Set("next_page", orNil(next))
		pager.Set("next_page_path", pathOf(next))
		if n == 1 {
			tpl.Paginate(pager)
			continue
		}
		tpl.CopyAt(strings.TrimSuffix(pathOf(n).(string), "/")+"/", pager)
	}
	return nil
}

// orNil is n, or nil for 0 (no such page).
func orNil(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
