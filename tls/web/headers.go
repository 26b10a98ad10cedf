package web

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// HeadersFile is the site file at the top of the tree whose rules add response headers per
// path, in Netlify's _headers format:
//
//	# a comment
//	/*
//	  Content-Security-Policy: default-src 'self'
//	/assets/*
//	  Cache-Control: public, max-age=604800
//	/blog/:slug/
//	  X-Robots-Tag: noindex
//
// A path line starts in the first column; its header lines are
// indented. "*" matches anything (slashes too), ":name" one path
// segment. Every rule whose path matches applies, in the file's order;
// a header named twice for one response has its values joined with ", ".
// The file itself is not served.
const HeadersFile = "_headers"

const (
	maxHeadersFile  = 1 << 20
	maxHeaderRules  = 1000
	maxHeaderValues = 100 // per rule
)

// fixedHeaders are set by the server itself and may not be configured:
// they frame the message or belong to the connection.
var fixedHeaders = map[string]bool{
	"Connection": true, "Content-Length": true, "Content-Encoding": true, "Content-Range": true,
	"Date": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true,
}

// headerList is headers to set, made once: canonical names, each value
// a slice with len == cap (net/http copies before it appends).
type headerList []headerField

type headerField struct {
	name  string
	value []string
}

func (l headerList) apply(h http.Header) {
	for _, f := range l {
		h[f.name] = f.value
	}
}

// checkHeader validates one configured header and returns its canonical
// name.
func checkHeader(name, value string) (string, error) {
	if !httpguts.ValidHeaderFieldName(name) {
		return "", fmt.Errorf("%q is not a header name", name)
	}
	canon := http.CanonicalHeaderKey(name)
	if fixedHeaders[canon] {
		return "", fmt.Errorf("header %s is the server's own and cannot be set", canon)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		return "", fmt.Errorf("header %s: the value has a control character", canon)
	}
	return canon, nil
}

// NewHeaderList checks headers given by name (islet.yml's headers: of a
// host) and makes them ready to set.
func NewHeaderList(headers map[string]string) (headerList, error) {
	var l headerList
	for name, value := range headers {
		canon, err := checkHeader(name, value)
		if err != nil {
			return nil, err
		}
		l = append(l, headerField{canon, one(value)})
	}
	// A fixed order, so that responses do not depend on map order.
	sortFields(l)
	return l, nil
}

func sortFields(l headerList) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].name < l[j-1].name; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// headerRule is one path pattern of a _headers file and its headers.
type headerRule struct {
	pattern string
	re      *regexp.Regexp
	headers headerList
}

// pathHeaders is a parsed _headers file.
type pathHeaders []headerRule

// parseHeadersFile reads a _headers file; errors say file:line.
func parseHeadersFile(data []byte) (pathHeaders, error) {
	if len(data) > maxHeadersFile {
		return nil, fmt.Errorf("%s: larger than %d KiB", HeadersFile, maxHeadersFile>>10)
	}
	var rules pathHeaders
	var cur *headerRule
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxHeadersFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		bad := func(format string, a ...any) (pathHeaders, error) {
			return nil, fmt.Errorf("%s:%d: %s", HeadersFile, n, fmt.Sprintf(format, a...))
		}
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case trimmed == line: // a path line
			if !strings.HasPrefix(line, "/") {
				return bad("%q: a rule's path starts with / (a header line is indented)", line)
			}
			if strings.ContainsAny(line, " \t") {
				return bad("%q: a path has no spaces", line)
			}
			if len(rules) == maxHeaderRules {
				return bad("more than %d rules", maxHeaderRules)
			}
			rules = append(rules, headerRule{pattern: line, re: pathPattern(line)})
			cur = &rules[len(rules)-1]
		default:
			if cur == nil {
				return bad("a header before any path")
			}
			name, value, ok := strings.Cut(trimmed, ":")
			if !ok {
				return bad("%q is not Name: value", trimmed)
			}
			canon, err := checkHeader(strings.TrimSpace(name), strings.TrimSpace(value))
			if err != nil {
				return bad("%v", err)
			}
			if len(cur.headers) == maxHeaderValues {
				return bad("more than %d headers for %s", maxHeaderValues, cur.pattern)
			}
			cur.headers = append(cur.headers, headerField{canon, one(strings.TrimSpace(value))})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", HeadersFile, err)
	}
	for _, r := range rules {
		if len(r.headers) == 0 {
			return nil, fmt.Errorf("%s: rule %s has no headers", HeadersFile, r.pattern)
		}
	}
	return rules, nil
}

// apply sets on h the headers of every rule matching the URL path p. A
// header that two matching rules (or one rule twice) set gets both
// values, joined.
func (ph pathHeaders) apply(h http.Header, p string) {
	var set map[string]bool // names set by a rule of this request
	for i := range ph {
		r := &ph[i]
		if !r.re.MatchString(p) {
			continue
		}
		if set == nil {
			set = map[string]bool{}
		}
		for _, f := range r.headers {
			if set[f.name] {
				h[f.name] = one(h[f.name][0] + ", " + f.value[0])
				continue
			}
			set[f.name] = true
			h[f.name] = f.value
		}
	}
}

// pathPattern compiles a _headers path: "*" is any run of characters,
// ":name" a run without "/". Go's regexp matches in linear time, so no
// request path can make a pattern slow.
func pathPattern(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); {
		switch c := pat[i]; {
		case c == '*':
			b.WriteString(".*")
			i++
		case c == ':' && i > 0 && pat[i-1] == '/' && i+1 < len(pat) && isNameByte(pat[i+1]):
			j := i + 1
			for j < len(pat) && isNameByte(pat[j]) {
				j++
			}
			b.WriteString("[^/]+")
			i = j
		default:
			j := i + 1
			for j < len(pat) && pat[j] != '*' && pat[j] != ':' {
				j++
			}
			b.WriteString(regexp.QuoteMeta(pat[i:j]))
			i = j
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// CheckHeadersFile parses the site's _headers file, if it has one, as
// NewSite will: islet build calls it, so that a bad file stops the
// build, not the appliance's start.
func CheckHeadersFile(fsys fs.FS) error {
	data, err := fs.ReadFile(fsys, HeadersFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", HeadersFile, err)
	}
	_, err = parseHeadersFile(data)
	return err
}
