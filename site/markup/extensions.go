package markup

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// kramdown's attribute list definitions and extensions, read off the
// source before goldmark parses it:
//   - {:name: .class #id key="v"} defines attributes that an IAL names
//     ({: name}); the definition line is dropped and each reference is
//     replaced by what it defines, wherever the definition is;
//   - {::comment}…{:/comment} is an HTML comment;
//   - {::nomarkdown}…{:/nomarkdown} is written as it is;
//   - {::options toc_levels="2..3" /} limits the table of contents
//     (other options are not read).

var (
	aldLine = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^ {0,3}\{:([A-Za-z][\w-]*):((?:[^}"']|"[^"]*"|'[^']*')*)\}[ \t]*$`)
	})
	ialAny = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\{:([^/:}"'](?:[^}"':]|"[^"]*"|'[^']*')*)\}`)
	})
	extComment = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)\{::comment\}(.*?)\{:/comment\}`)
	})
	extNoMarkdown = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)\{::nomarkdown\}(.*?)\{:/nomarkdown\}`)
	})
	extOptions = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\{::options((?:[^}"']|"[^"]*"|'[^']*')*)/\}`)
	})
	tocLevelsOpt = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`toc_levels=(?:"([^"]*)"|'([^']*)')`)
	})
	rawKeep = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`<!--islet-raw-(\d+)-->|\x{E000}(\d+)\x{E001}`)
	})
)

// extensions applies the definitions and extensions to src, returning
// the text nomarkdown keeps (put back by restoreRaw) and the levels the
// table of contents lists (nil: all).
func extensions(src string) (string, []string, map[int]bool) {
	if !strings.Contains(src, "{:") {
		return src, nil, nil
	}
	var raw []string
	var levels map[int]bool
	if strings.Contains(src, "{::") {
		src = extComment().ReplaceAllStringFunc(src, func(c string) string {
			body := extComment().FindStringSubmatch(c)[1]
			return "<!-- " + strings.TrimSpace(body) + " -->"
		})
		var b strings.Builder
		last := 0
		for _, loc := range extNoMarkdown().FindAllStringSubmatchIndex(src, -1) {
			raw = append(raw, strings.Trim(src[loc[2]:loc[3]], "\n"))
			b.WriteString(src[last:loc[0]])
			block := (loc[0] == 0 || src[loc[0]-1] == '\n') && (loc[1] == len(src) || src[loc[1]] == '\n' || src[loc[1]] == '\r')
			if block {
				fmt.Fprintf(&b, "<!--islet-raw-%d-->", len(raw)-1) // an HTML block of its own
			} else {
				fmt.Fprintf(&b, "\uE000%d\uE001", len(raw)-1) // text goldmark leaves alone
			}
			last = loc[1]
		}
		b.WriteString(src[last:])
		src = b.String()
		src = extOptions().ReplaceAllStringFunc(src, func(o string) string {
			if m := tocLevelsOpt().FindStringSubmatch(o); m != nil {
				levels = parseTOCLevels(m[1] + m[2])
			}
			return ""
		})
	}
	var fences Fences
	lines := strings.SplitAfter(src, "\n")
	alds := map[string]string{}
	for i, ln := range lines {
		if fences.Code(strings.TrimRight(ln, "\r\n")) {
			continue
		}
		if m := aldLine().FindStringSubmatch(strings.TrimRight(ln, "\r\n")); m != nil {
			alds[m[1]] = strings.TrimSpace(m[2])
			lines[i] = "\n"
		}
	}
	fences = Fences{}
	for i, ln := range lines {
		if fences.Code(strings.TrimRight(ln, "\r\n")) || !strings.Contains(ln, "{:") {
			continue
		}
		if len(alds) > 0 {
			ln = ialAny().ReplaceAllStringFunc(ln, func(ial string) string {
				m := ialAny().FindStringSubmatch(ial)
				var out []string
				for _, w := range strings.Fields(m[1]) {
					if def, ok := alds[w]; ok {
						out = append(out, def)
					} else {
						out = append(out, w)
					}
				}
				return "{: " + strings.Join(out, " ") + "}"
			})
		}
		lines[i] = ln
	}
	src = strings.Join(lines, "")
	return src, raw, levels
}

// parseTOCLevels reads kramdown's toc_levels: "2..3", "2...4" or a list
// "1,2,3".
func parseTOCLevels(v string) map[int]bool {
	out := map[int]bool{}
	if a, b, ok := strings.Cut(v, ".."); ok {
		lo, err1 := strconv.Atoi(strings.TrimSpace(a))
		exclusive := strings.HasPrefix(b, ".")
		hi, err2 := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(b, ".")))
		if err1 != nil || err2 != nil {
			return nil
		}
		if exclusive {
			hi--
		}
		for l := lo; l <= hi; l++ {
			out[l] = true
		}
		return out
	}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if n, err := strconv.Atoi(f); err == nil {
			out[n] = true
		}
	}
	return out
}

// restoreRaw puts the nomarkdown text back.
func restoreRaw(html string, raw []string) string {
	if len(raw) == 0 {
		return html
	}
	return rawKeep().ReplaceAllStringFunc(html, func(m string) string {
		g := rawKeep().FindStringSubmatch(m)
		n, _ := strconv.Atoi(g[1] + g[2])
		if n < len(raw) {
			return raw[n]
		}
		return m
	})
}
