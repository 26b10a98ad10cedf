package site

import (
	"path"
	"strconv"
	"strings"

	"islet.dev/islet/site/liquid"
)

// paginate is jekyll-paginate: the index.html in paginate_path's folder
// (or the nearest one above it) lists the posts paginate at a time as
// paginator.posts; pages 2… are copies of it at paginate_path.
func (s *Site) paginate() {
	if !s.plugins["jekyll-paginate"] || s.cfg.paginate <= 0 {
		return
	}
	pp := "/" + strings.TrimPrefix(s.cfg.paginatePath, "/")
	pdir := strings.TrimPrefix(path.Dir(pp), "/")
	var tpl *document
	for _, p := range s.pages {
		if path.Base(p.rel) != "index.html" || p.generated != "" {
			continue
		}
		dir := path.Dir(p.rel)
		if dir == "." {
			dir = ""
		}
		if pdir != dir && !strings.HasPrefix(pdir, dir+"/") && dir != "" {
			continue
		}
		if tpl == nil || len(p.rel) > len(tpl.rel) {
			tpl = p
		}
	}
	if tpl == nil {
		s.log.Warn("pagination is on, but there is no index.html to paginate")
		return
	}
	var posts []any
	all, _ := get(s.drop, "posts").([]any)
	for _, x := range all {
		if d, ok := x.(*docDrop); ok && liquid.Truthy(get(d.d.data, "hidden")) {
			continue
		}
		posts = append(posts, x)
	}
	per := s.cfg.paginate
	total := (len(posts) + per - 1) / per
	pathOf := func(n int) any {
		if n <= 0 {
			return nil
		}
		if n == 1 {
			return tpl.url
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
		prev, next := any(nil), any(nil)
		if n > 1 {
			prev = n - 1
		}
		if n < total {
			next = n + 1
		}
		pager.Set("previous_page", prev)
		pager.Set("previous_page_path", pathOf(toInt(prev)))
		pager.Set("next_page", next)
		pager.Set("next_page_path", pathOf(toInt(next)))
		if n == 1 {
			tpl.pager = pager
			continue
		}
		c := &document{site: s, rel: tpl.rel, body: tpl.body, bodyLine: tpl.bodyLine, ext: tpl.ext, data: tpl.data, fsys: tpl.fsys, generated: "jekyll-paginate", pager: pager}
		c.url = strings.TrimSuffix(pathOf(n).(string), "/") + "/"
		c.dest = strings.TrimPrefix(c.url, "/") + "index.html"
		c.drop = &docDrop{c}
		s.pages = append(s.pages, c)
	}
}

func toInt(v any) int {
	n, _ := v.(int)
	return n
}
