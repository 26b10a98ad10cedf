package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// A mutation replaces one exact piece of one line of a file; the test
// run must then fail.
//
// mutants.txt holds blocks of "key value" lines separated by blank lines:
//
//	mutant NXDOMAIN answered as NOERROR
//	file   zones/answer.go
//	test   ./zones TestConformanceGolden
//	from   r.rcode = dns.RcodeNameError
//	to     r.rcode = dns.RcodeSuccess
//	fast
//
// "from" must occur exactly once in the file; with an "after" line, the
// first occurrence after that text is the one mutated. "to" may be
// empty (the text is removed). "test" is a package pattern and a -run
// regexp; "tags" adds build tags (peers, for a mutation only a peer test
// catches); "fast" puts the mutation in the set make test runs.
type mutation struct {
	name, file, pkg, run, tags, after, from, to string
	fast                                        bool
	line                                        int // where name starts in the list
}

func readList(path string) ([]mutation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mutation
	var cur *mutation
	sc := bufio.NewScanner(f)
	n := 0
	finish := func() error {
		if cur == nil {
			return nil
		}
		if cur.file == "" || cur.pkg == "" || cur.from == "" {
			return fmt.Errorf("%s:%d: mutation %q needs file, test and from", path, cur.line, cur.name)
		}
		out = append(out, *cur)
		cur = nil
		return nil
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			if err := finish(); err != nil {
				return nil, err
			}
			continue
		}
		key, value, _ := strings.Cut(line, " ")
		value = strings.TrimLeft(value, " ")
		if key == "mutant" {
			if err := finish(); err != nil {
				return nil, err
			}
			cur = &mutation{name: value, line: n}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %q before any \"mutant\" line", path, n, key)
		}
		switch key {
		case "file":
			cur.file = value
		case "test":
			cur.pkg, cur.run, _ = strings.Cut(value, " ")
			cur.run = strings.TrimSpace(cur.run)
		case "tags":
			cur.tags = value
		case "after":
			cur.after = value
		case "from":
			cur.from = value
		case "to":
			cur.to = value
		case "fast":
			cur.fast = true
		default:
			return nil, fmt.Errorf("%s:%d: unknown key %q", path, n, key)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return out, nil
}
