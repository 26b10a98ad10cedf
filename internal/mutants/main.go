// Command mutants checks that the tests catch what they claim to: it
// applies each single-line mutation listed in mutants.txt to a copy of
// one source file, runs the test that must catch it (through go's
// -overlay in GOFLAGS, so the tree itself is never touched and a test
// that builds islet builds the mutant), and fails if any
// mutation survives, no longer applies, or stops the package compiling.
//
// Usage: go run ./internal/mutants [-fast] [-run REGEXP] [-j N] [LIST]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"sync"
	"time"
)

func main() {
	fast := flag.Bool("fast", false, "only the mutations marked fast")
	run := flag.String("run", "", "only the mutations whose name matches this regexp")
	jobs := flag.Int("j", runtime.NumCPU(), "mutations tested at once")
	verbose := flag.Bool("v", false, "print each mutation's test output")
	flag.Parse()
	list := "internal/mutants/mutants.txt"
	if flag.NArg() > 0 {
		list = flag.Arg(0)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := mainErr(ctx, list, *fast, *run, *jobs, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}

func mainErr(ctx context.Context, list string, fast bool, run string, jobs int, verbose bool) error {
	muts, err := readList(list)
	if err != nil {
		return err
	}
	var re *regexp.Regexp
	if run != "" {
		if re, err = regexp.Compile(run); err != nil {
			return fmt.Errorf("-run: %w", err)
		}
	}
	var todo []mutation
	for _, m := range muts {
		if (!fast || m.fast) && (re == nil || re.MatchString(m.name)) {
			todo = append(todo, m)
		}
	}
	scratch, err := os.MkdirTemp("", "mutants")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	start := time.Now()
	results := make([]outcome, len(todo))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, jobs))
	for i, m := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			began := time.Now()
			results[i] = m.check(ctx, scratch, i)
			fmt.Printf("%-8s %s (%s, %s)\n", results[i].verdict, m.name, m.file, time.Since(began).Round(100*time.Millisecond))
			if verbose || results[i].verdict != caught {
				fmt.Print(indent(results[i].output))
			}
		}()
	}
	wg.Wait()
	bad := 0
	for _, r := range results {
		if r.verdict != caught {
			bad++
		}
	}
	fmt.Printf("%d mutations, %d caught, %d not (%s)\n", len(todo), len(todo)-bad, bad, time.Since(start).Round(time.Second))
	if bad > 0 {
		return fmt.Errorf("%d of %d mutations were not caught", bad, len(todo))
	}
	return nil
}
