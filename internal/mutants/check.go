package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type verdict string

const (
	caught   verdict = "caught"
	survived verdict = "SURVIVED"
	broken   verdict = "BROKEN" // the mutation does not apply or does not compile
)

type outcome struct {
	verdict verdict
	output  string
}

// check applies m through an overlay in dir (file i) and runs its test.
func (m mutation) check(ctx context.Context, dir string, i int) outcome {
	src, err := os.ReadFile(m.file)
	if err != nil {
		return outcome{broken, err.Error() + "\n"}
	}
	text := string(src)
	head := ""
	if m.after != "" {
		at := strings.Index(text, m.after)
		if at < 0 {
			return outcome{broken, fmt.Sprintf("%q is not in %s\n", m.after, m.file)}
		}
		head, text = text[:at], text[at:]
	}
	switch c := strings.Count(text, m.from); {
	case c == 0:
		return outcome{broken, fmt.Sprintf("%q is not in %s\n", m.from, m.file)}
	case c > 1 && m.after == "":
		return outcome{broken, fmt.Sprintf("%q occurs %d times in %s: give an \"after\" line\n", m.from, c, m.file)}
	}
	mutatedSrc := head + strings.Replace(text, m.from, m.to, 1)
	abs, err := filepath.Abs(m.file)
	if err != nil {
		return outcome{broken, err.Error() + "\n"}
	}
	mutated := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(m.file)))
	overlay := filepath.Join(dir, fmt.Sprintf("%d.json", i))
	if err := os.WriteFile(mutated, []byte(mutatedSrc), 0o644); err != nil {
		return outcome{broken, err.Error() + "\n"}
	}
	js, _ := json.Marshal(map[string]map[string]string{"Replace": {abs: mutated}})
	if err := os.WriteFile(overlay, js, 0o644); err != nil {
		return outcome{broken, err.Error() + "\n"}
	}
	// No DWARF to link, and no vet: linking is most of a mutant's time,
	// and a mutant must be caught by its test, not by vet.
	args := []string{"test", "-count=1", "-timeout=3m", "-vet=off", "-ldflags=-w"}
	if m.tags != "" {
		args = append(args, "-tags", m.tags)
	}
	if m.run != "" {
		args = append(args, "-run", m.run)
	}
	args = append(args, m.pkg)
	// The overlay goes in GOFLAGS, so that a test building islet itself
	// (go build from a test) builds the mutant too.
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -overlay="+overlay))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case strings.Contains(string(out), "no tests to run"):
		return outcome{broken, "no test matches " + m.run + "\n"}
	case err == nil:
		return outcome{survived, string(out)}
	case !errors.As(err, &exit):
		return outcome{broken, err.Error() + "\n"}
	case strings.Contains(string(out), "[build failed]") || strings.Contains(string(out), "[setup failed]"):
		return outcome{broken, "the mutation does not compile:\n" + string(out)}
	}
	return outcome{caught, string(out)}
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 30 {
		lines = append(lines[:30], fmt.Sprintf("… %d more lines", len(lines)-30))
	}
	return "    " + strings.Join(lines, "\n    ") + "\n"
}
