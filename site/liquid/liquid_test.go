package liquid

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"islet.dev/islet/internal/testpeer"
)

var update = flag.Bool("update", false, "rewrite testdata/ruby.json from Ruby Liquid")

type result struct {
	Out *string `json:"out,omitempty"`
	Err *string `json:"err,omitempty"`
}

// fromJSON decodes test variables with integers as int.
func fromJSON(t testing.TB, s string) map[string]any {
	if s == "" {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("vars %s: %v", s, err)
	}
	return convertNumbers(v).(map[string]any)
}

func convertNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return int(i)
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = convertNumbers(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = convertNumbers(v[k])
		}
	}
	return v
}

func renderCase(t testing.TB, name, src, vars string, partials map[string]string) (string, error) {
	e := New()
	e.Location = time.UTC
	e.Warn = func(string, int, string) {} // Ruby Liquid runs with error_mode warn, as in Jekyll
	e.Partial = func(n string) (*Template, error) {
		s, ok := partials[n]
		if !ok {
			return nil, fmt.Errorf("no such template '%s'", n)
		}
		return e.Parse(n, s)
	}
	tpl, err := e.Parse(name, src)
	if err != nil {
		return "", err
	}
	return tpl.Render(e, fromJSON(t, vars), nil)
}

// rubyResults runs every case through Ruby Liquid.
func rubyResults(t *testing.T) map[string]result {
	t.Helper()
	testpeer.Require(t, "ruby")
	type rc struct {
		Name     string            `json:"name"`
		Src      string            `json:"src"`
		Vars     any               `json:"vars,omitempty"`
		Partials map[string]string `json:"partials,omitempty"`
	}
	var in []rc
	for _, c := range cases {
		var vars any
		if c.vars != "" {
			json.Unmarshal([]byte(c.vars), &vars)
		}
		in = append(in, rc{c.name, c.src, vars, c.partials})
	}
	js, _ := json.Marshal(in)
	cmd := exec.Command("ruby", "testdata/render.rb")
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Stdin = bytes.NewReader(js)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ruby: %v\n%s", err, stderr.String())
	}
	var res map[string]result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func goldenResults(t *testing.T) map[string]result {
	b, err := os.ReadFile("testdata/ruby.json")
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func compareWith(t *testing.T, want map[string]result) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, ok := want[c.name]
			if !ok {
				t.Fatalf("no expected result; run go test -run Ruby -update")
			}
			got, err := renderCase(t, c.name, c.src, c.vars, c.partials)
			switch {
			case w.Err != nil && err == nil:
				t.Errorf("Ruby Liquid fails (%s); islet renders %q", *w.Err, got)
			case w.Err == nil && err != nil:
				t.Errorf("Ruby Liquid renders %q; islet fails: %v", *w.Out, err)
			case w.Out != nil && got != *w.Out:
				t.Errorf("\nsource %q\ngot  %q\nwant %q", c.src, got, *w.Out)
			}
		})
	}
}

// TestRubyGolden compares with Ruby Liquid's outputs stored in
// testdata/ruby.json.
func TestRubyGolden(t *testing.T) {
	if *update {
		res := rubyResults(t)
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile("testdata/ruby.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compareWith(t, goldenResults(t))
}
