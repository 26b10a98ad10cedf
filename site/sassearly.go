package site

import "strings"

// sassJob is a stylesheet compiled ahead of its page's turn, from its
// source as written.
type sassJob struct {
	done           chan struct{}
	css, sourceMap string
	err            error
}

// startSass compiles, each on a goroutine of its own, the stylesheet
// pages whose source holds no Liquid: their Liquid render cannot change
// them (a template without tags renders as itself), so their compile
// (most of a small site's render, and libsass's alone) need not wait
// for the pages' stage after every collection document. wait waits for
// them all.
func (s *Site) startSass(pages []*document) (wait func()) {
	s.sassJobs = map[*document]*sassJob{}
	for _, d := range pages {
		s.startSassJob(d)
	}
	return s.waitSass
}

// startSassJob begins compiling d when it is a stylesheet without
// Liquid. The read calls it for each page as it reads it, so that a
// stylesheet compiles beside the reading of the rest.
func (s *Site) startSassJob(d *document) {
	if (d.ext != ".scss" && d.ext != ".sass") || strings.Contains(d.body, "{{") || strings.Contains(d.body, "{%") {
		return
	}
	j := &sassJob{done: make(chan struct{})}
	s.sassMu.Lock()
	s.sassJobs[d] = j
	s.sassMu.Unlock()
	go func() {
		defer close(j.done)
		j.css, j.sourceMap, j.err = s.compileSass(d, d.body)
	}()
}

// waitSass waits for every compile begun.
func (s *Site) waitSass() {
	s.sassMu.Lock()
	defer s.sassMu.Unlock()
	for _, j := range s.sassJobs {
		<-j.done
	}
}

// earlySass is the finished compile startSass began for d, or nil
// when it began none.
func (s *Site) earlySass(d *document) *sassJob {
	j := s.sassJobs[d]
	if j != nil {
		<-j.done
	}
	return j
}
