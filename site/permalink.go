package site

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var permalinkStyles = map[string]string{
	"date":     "/:categories/:year/:month/:day/:title:output_ext",
	"pretty":   "/:categories/:year/:month/:day/:title/",
	"ordinal":  "/:categories/:year/:y_day/:title:output_ext",
	"weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
	"none":     "/:categories/:title:output_ext",
}

func styleTemplate(p string) string {
	if t, ok := permalinkStyles[p]; ok {
		return t
	}
	return p
}

// permalinkSuffix is Jekyll's add_permalink_suffix for pages.
func permalinkSuffix(style string) string {
	switch style {
	case "pretty":
		return "/"
	case "date", "ordinal", "none", "weekdate":
		return ":output_ext"
	}
	if strings.HasSuffix(style, "/") {
		return "/"
	}
	if strings.HasSuffix(style, ":output_ext") {
		return ":output_ext"
	}
	return ""
}

var placeholder = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`:([a-z_]+)`)
})

// expandURL fills a permalink template and cleans the result as
// Jekyll's URL class does.
func expandURL(tpl string, values map[string]string) (string, error) {
	var missing string
	out := placeholder().ReplaceAllStringFunc(tpl, func(m string) string {
		key := m[1:]
		// longest placeholder that exists: ":titlefoo" is not ":title"
		for k := len(key); k > 0; k-- {
			if v, ok := values[key[:k]]; ok {
				return escapePath(v) + key[k:]
			}
		}
		missing = m
		return m
	})
	if missing != "" && !strings.Contains(tpl, "://") {
		return "", fmt.Errorf("permalink %q: unknown placeholder %s", tpl, missing)
	}
	return sanitizeURL(out), nil
}

func sanitizeURL(u string) string {
	u = "/" + u
	u = strings.ReplaceAll(u, "..", "/")
	u = strings.ReplaceAll(u, "./", "")
	for strings.Contains(u, "//") {
		u = strings.ReplaceAll(u, "//", "/")
	}
	return u
}

// escapePath is Jekyll's URL.escape_path (Addressable's normalize).
func escapePath(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func unescapePath(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// computeURL sets d.url and d.dest.
func (d *document) computeURL() error {
	c := d.site.cfg
	outExt := d.outputExt()
	var tpl string
	values := map[string]string{"output_ext": outExt}
	if p := getString(d.data, "permalink"); p != "" {
		tpl = p
	}
	if d.isPage() {
		dir := path.Dir(d.rel)
		if dir == "." {
			dir = ""
		}
		base := strings.TrimSuffix(path.Base(d.rel), d.ext)
		values["path"] = dir
		values["basename"] = base
		if tpl == "" {
			switch {
			case outExt != ".html" && outExt != ".htm" && outExt != ".xhtml":
				tpl = "/:path/:basename:output_ext"
			case base == "index":
				tpl = "/:path/"
			default:
				tpl = "/:path/:basename" + permalinkSuffix(c.permalink)
			}
		}
	} else {
		if tpl == "" {
			tpl = d.col.permalink
			if tpl == "" {
				tpl = "/:collection/:path:output_ext"
			}
			tpl = styleTemplate(tpl)
		}
		rel := strings.TrimSuffix(d.rel, d.ext)
		if d.col.label == "posts" {
			rel = strings.TrimPrefix(rel, d.postDir)
			rel = strings.TrimPrefix(strings.TrimPrefix(rel, "_posts"), "_drafts")
		} else {
			rel = strings.TrimPrefix(rel, "_"+d.col.label)
		}
		base := path.Base(strings.TrimSuffix(d.rel, d.ext))
		t := d.date
		values["collection"] = d.col.label
		values["path"] = rel
		values["name"] = Slugify(base, "default", false)
		values["title"] = Slugify(d.slug, "pretty", true)
		values["slug"] = Slugify(d.slug, "default", false)
		var cats []string
		seen := map[string]bool{}
		for _, x := range listOf(get(d.data, "categories")) {
			s := strings.ToLower(x.(string))
			if !seen[s] {
				seen[s] = true
				cats = append(cats, s)
			}
		}
		values["categories"] = strings.Join(cats, "/")
		var slugCats []string
		for _, cat := range cats {
			slugCats = append(slugCats, Slugify(cat, "default", false))
		}
		values["slugified_categories"] = strings.Join(slugCats, "/")
		if !t.IsZero() {
			_, week := t.ISOWeek()
			values["year"] = t.Format("2006")
			values["month"] = t.Format("01")
			values["day"] = t.Format("02")
			values["hour"] = t.Format("15")
			values["minute"] = t.Format("04")
			values["second"] = t.Format("05")
			values["i_day"] = fmt.Sprint(t.Day())
			values["i_month"] = fmt.Sprint(int(t.Month()))
			values["short_month"] = t.Format("Jan")
			values["long_month"] = t.Format("January")
			values["short_year"] = t.Format("06")
			values["y_day"] = fmt.Sprintf("%03d", t.YearDay())
			values["week"] = fmt.Sprintf("%02d", week)
			values["w_year"] = fmt.Sprint(func() int { y, _ := t.ISOWeek(); return y }())
			values["short_day"] = t.Format("Mon")
			values["long_day"] = t.Format("Monday")
		}
	}
	u, err := expandURL(tpl, values)
	if err != nil {
		return fmt.Errorf("%s: %w", d.site.keyLine(d.rel, "permalink"), err)
	}
	d.url = u
	dest := strings.TrimPrefix(unescapePath(u), "/")
	if strings.HasSuffix(u, "/") || dest == "" {
		dest = path.Join(dest, "index.html")
	} else if path.Ext(dest) != outExt && !(d.isPage() && path.Ext(dest) != "") {
		dest += outExt
	}
	if d.isPage() && path.Ext(dest) == "" {
		dest += outExt
	}
	d.dest = dest
	return nil
}

// Slugify is Jekyll's Utils.slugify with its modes: raw, default,
// pretty, ascii, latin, none.
func Slugify(s, mode string, cased bool) string {
	var keep func(r rune) bool
	switch mode {
	case "none":
		return s
	case "raw":
		keep = func(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\f' && r != '\r' }
	case "pretty":
		keep = func(r rune) bool { return slugDefaultRune(r) || strings.ContainsRune("._~!$&'()+,;=@", r) }
	case "ascii":
		keep = slugASCIIRune
	case "latin":
		s = transliterate(s)
		keep = slugASCIIRune
	default:
		keep = slugDefaultRune
	}
	s = replaceRuns(s, keep, "-")
	s = strings.TrimPrefix(s, "-")
	s = strings.TrimSuffix(s, "-")
	if !cased {
		s = strings.ToLower(s)
	}
	return s
}

// Jekyll's slug classes: [^\p{M}\p{L}\p{Nd}] for default, [^a-zA-Z0-9]
// for ascii.
func slugDefaultRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

func slugASCIIRune(r rune) bool { return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// replaceRuns replaces each run of runes keep refuses with with, as a
// regexp's ReplaceAllString of [^class]+ does (a byte that is not UTF-8
// is the rune U+FFFD to keep, and kept as it is).
func replaceRuns(s string, keep func(r rune) bool, with string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !keep(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	inRun := false
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !keep(r) {
			if !inRun {
				b.WriteString(with)
			}
			inRun = true
		} else {
			b.WriteString(s[i : i+size])
			inRun = false
		}
		i += size
	}
	return b.String()
}

// transliterate drops accents the way I18n.transliterate does for
// Latin letters; other characters become "?".
func transliterate(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < 128:
			b.WriteRune(r)
		case r == 'ß':
			b.WriteString("ss")
		case r == 'æ':
			b.WriteString("ae")
		case r == 'Æ':
			b.WriteString("AE")
		case r == 'ø':
			b.WriteString("o")
		case r == 'Ø':
			b.WriteString("O")
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
