package plugins

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"islet.dev/islet/site/liquid"
)

// mentions is jekyll-mentions 1.6: @user in the text of an HTML page
// or document becomes a link to the user's profile, outside pre, code,
// a, style and script, through html-pipeline's MentionFilter. A page
// whose body has such a mention anywhere is written back as
// html-pipeline writes it (reserialize).
type mentions struct{}

func (mentions) Name() string                   { return "jekyll-mentions" }
func (mentions) Generate(Site) error            { return nil }
func (mentions) Tags(Site) map[string]TagParser { return nil }

// mentionSkip are the elements whose text is left alone.
var mentionSkip = map[string]bool{"pre": true, "code": true, "a": true, "style": true, "script": true}

// mentionInfoLogins are the names that would link to a page about
// mentions; with no such page configured they stay text.
var mentionInfoLogins = map[string]bool{"mention": true, "mentions": true, "mentioned": true, "mentioning": true}

var bodyOpen = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?s)<body(.*?)>\s*`)
})

func (m mentions) PostRender(s Site, p Page, out string) (string, error) {
	data := p.Data()
	if v, ok := data.Get("jekyll-mentions"); ok && v == false {
		return out, nil
	}
	pl, _ := data.Get("permalink")
	permalink := liquid.ToString(pl)
	if !p.Written() || (p.OutputExt() != ".html" && !strings.HasSuffix(permalink, "/")) || !strings.Contains(out, "@") {
		return out, nil
	}
	cfg, _ := s.Config().Get("jekyll-mentions")
	if v, ok := data.Get("jekyll-mentions"); ok {
		cfg = v
	}
	base, err := mentionBase(cfg)
	if err != nil {
		return "", err
	}
	link := func(login string) string {
		url := base
		if !strings.HasSuffix(url, "/") && !strings.HasSuffix(url, "~") {
			url += "/"
		}
		return `<a href="` + escapeLibxmlText(uriEscape(url+login)) + `" class="user-mention">@` + login + "</a>"
	}
	filter := func(text string, skipped bool) string {
		if skipped {
			return text
		}
		return replaceMentions(text, link)
	}
	if strings.Contains(out, "<body") {
		loc := bodyOpen().FindStringIndex(out)
		if loc == nil {
			return out, nil
		}
		body, rest, _ := strings.Cut(out[loc[1]:], "</body>")
		if !hasMention(body) {
			return out, nil
		}
		tail := ""
		if strings.Contains(out[loc[1]:], "</body>") {
			tail = "</body>" + rest
		}
		return out[:loc[1]] + reserialize(body, mentionSkip, filter) + tail, nil
	}
	if !hasMention(out) {
		return out, nil
	}
	return reserialize(out, mentionSkip, filter), nil
}

// mentionBase is the profile URL prefix: jekyll-mentions as a string,
// or its base_url, or GitHub's.
func mentionBase(cfg any) (string, error) {
	const github = "https://github.com"
	switch v := cfg.(type) {
	case nil:
		return github, nil
	case string:
		return v, nil
	case *liquid.Map:
		if b, ok := v.Get("base_url"); ok {
			return liquid.ToString(b), nil
		}
		return github, nil
	}
	return "", fmt.Errorf("your jekyll-mentions config has to either be a string or a hash, not %T", cfg)
}

// hasMention says whether the mention pattern matches anywhere in s,
// as jekyll-mentions checks a body before filtering it.
func hasMention(s string) bool {
	for i := 0; i < len(s); i++ {
		if _, ok := mentionAt(s, i); ok {
			return true
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// mentionAt reports whether html-pipeline's mention pattern matches an
// @login at s[i], and where the login ends: the @ at a line start or
// after a non-word character, a word character then word characters
// and dashes, not followed by a slash, nor by a single dot and a word
// character.
func mentionAt(s string, i int) (int, bool) {
	if s[i] != '@' || (i > 0 && s[i-1] != '\n' && isWordByte(s[i-1])) {
		return 0, false
	}
	j := i + 1
	for j < len(s) && (isWordByte(s[j]) || (j > i+1 && s[j] == '-')) {
		j++
	}
	if j == i+1 || (j < len(s) && s[j] == '/') {
		return 0, false
	}
	if j < len(s) && s[j] == '.' {
		k := j
		for k < len(s) && s[k] == '.' {
			k++
		}
		if k-j == 1 && k < len(s) && isWordByte(s[k]) {
			return 0, false
		}
	}
	return j, true
}

// replaceMentions replaces each @login the pattern matches with link's
// HTML, except the logins that name the mention feature itself.
func replaceMentions(s string, link func(login string) string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		j, ok := mentionAt(s, i)
		if !ok {
			continue
		}
		login := s[i+1 : j]
		if !mentionInfoLogins[strings.ToLower(login)] {
			b.WriteString(s[last:i])
			b.WriteString(link(login))
			last = j
		}
		i = j - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}
