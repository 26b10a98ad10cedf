package site

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// An incremental render (Options.StateDir) re-renders only the
// documents whose source changed and those that read their content,
// excerpt or output; everything else is taken from the previous
// render's state. Anything else that changed — config, layouts,
// includes, data, Sass partials, the theme, any front matter, the set
// of files — renders everything, as does a render that read content
// in a way it could not attribute (jsonify of a document).

// renderState is what an incremental render keeps between runs.
type renderState struct {
	Global    string
	Untracked bool
	Docs      map[string]docState
	Files     map[string]string // output path → content hash
}

type docState struct {
	Body                     string
	Deps                     []string
	Content, Excerpt, Output string
	Extra                    map[string][]byte
}

func (s *Site) dependsOn(reader, read *document) {
	s.depMu.Lock()
	defer s.depMu.Unlock()
	if s.deps == nil {
		s.deps = map[*document]map[*document]bool{}
	}
	if s.deps[reader] == nil {
		s.deps[reader] = map[*document]bool{}
	}
	s.deps[reader][read] = true
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// globalHash covers every input but document bodies: non-document
// files whole, documents' front matter, static files' names, sizes and
// times, the theme and the options.
func (s *Site) globalHash() (string, error) {
	docs := map[string]*document{}
	for _, d := range s.allDocuments() {
		if d.generated == "" && d.fsys == nil {
			docs[d.rel] = d
		}
	}
	statics := map[string]*staticFile{}
	for _, f := range s.static {
		statics[f.rel] = f
	}
	for _, col := range s.cfg.collections {
		for _, f := range col.files {
			statics[f.rel] = f
		}
	}
	h := sha256.New()
	o := s.opt
	fmt.Fprintf(h, "state 1\x00%v\x00%v\x00%v\x00%s\x00%s\x00", o.Drafts, o.Future, o.Unpublished, o.Environment, o.ThemeDir)
	err := fs.WalkDir(s.src, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if d, ok := docs[p]; ok {
			fmt.Fprintf(h, "doc\x00%s\x00%s\x00", p, d.frontHash)
			return nil
		}
		if f, ok := statics[p]; ok {
			fmt.Fprintf(h, "static\x00%s\x00%d\x00%d\x00", p, f.size, f.mtime.UnixNano())
			return nil
		}
		data, err := fs.ReadFile(s.src, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file\x00%s\x00%d\x00", p, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	if s.theme != nil {
		if err := hashTree(h, s.theme.fsys, "theme"); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// allDocuments lists pages and every collection's documents.
func (s *Site) allDocuments() []*document {
	var out []*document
	for _, col := range s.cfg.collections {
		out = append(out, s.published[col]...)
	}
	return append(out, s.pages...)
}

func statePath(dir string) string { return filepath.Join(dir, "render.state") }

func loadState(dir string) *renderState {
	b, err := os.ReadFile(statePath(dir))
	if err != nil {
		return nil
	}
	st, err := decodeState(b)
	if err != nil {
		return nil
	}
	return st
}

// reuse marks the documents an incremental render can take from the
// previous state and fills their results in. It returns how many.
func (s *Site) reuse(prev *renderState, global string) int {
	if prev == nil || prev.Global != global || prev.Untracked {
		return 0
	}
	docs := s.allDocuments()
	byRel := map[string]*document{}
	for _, d := range docs {
		if d.generated == "" {
			byRel[d.rel] = d
		}
	}
	dirty := map[string]bool{}
	for _, d := range docs {
		st, ok := prev.Docs[d.rel]
		if d.generated != "" || !ok || st.Body != d.bodyHash {
			dirty[d.rel] = true
		}
	}
	// a document that read a dirty one is dirty too, transitively
	for changed := true; changed; {
		changed = false
		for rel, st := range prev.Docs {
			if dirty[rel] || byRel[rel] == nil {
				continue
			}
			for _, dep := range st.Deps {
				if dirty[dep] {
					dirty[rel] = true
					changed = true
					break
				}
			}
		}
	}
	n := 0
	for _, d := range docs {
		if dirty[d.rel] || d.generated != "" {
			continue
		}
		st := prev.Docs[d.rel]
		d.content, d.excerpt, d.output, d.extra = st.Content, st.Excerpt, st.Output, st.Extra
		d.reused = true
		d.deps = st.Deps
		n++
	}
	return n
}

// newState is this render as the next incremental one will see it.
func (s *Site) newState(global string, out *Output) *renderState {
	st := renderState{Global: global, Untracked: s.untracked.Load(), Docs: map[string]docState{}, Files: map[string]string{}}
	for _, d := range s.allDocuments() {
		if d.generated != "" {
			continue
		}
		ds := docState{Body: d.bodyHash, Content: d.content, Excerpt: d.excerpt, Output: d.output, Extra: d.extra, Deps: d.deps}
		if !d.reused {
			ds.Deps = nil
			for dep := range s.deps[d] {
				ds.Deps = append(ds.Deps, dep.rel)
			}
			sort.Strings(ds.Deps)
		}
		st.Docs[d.rel] = ds
	}
	for _, p := range out.Paths() {
		st.Files[p] = outputHash(out, p)
	}
	return &st
}

func outputHash(out *Output, p string) string {
	if s, ok := out.files[p]; ok {
		return hashBytes([]byte(s))
	}
	c := out.copies[p]
	info, err := fs.Stat(c.fsys, c.path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("static %d %d", info.Size(), info.ModTime().UnixNano())
}

func saveState(dir string, st *renderState) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := statePath(dir) + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = encodeState(f, st)
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, statePath(dir))
}

// WriteChanged brings dir to the output, writing only the files that
// differ from what the previous incremental render wrote there and
// removing those it no longer has; without a previous state (or
// without dir) it is WriteDir. The render's state is saved after.
func (o *Output) WriteChanged(dir string) error {
	if o.prevFiles == nil {
		return o.WriteDir(dir)
	}
	if _, err := os.Stat(dir); err != nil {
		return o.WriteDir(dir)
	}
	for _, p := range o.Paths() {
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if o.state.Files[p] == o.prevFiles[p] && o.prevFiles[p] != "" {
			if _, err := os.Stat(dst); err == nil {
				continue
			}
		}
		data, err := o.ReadFile(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		tmp := dst + ".islet-new"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return err
		}
	}
	for p := range o.prevFiles {
		if _, ok := o.owner[p]; !ok && !strings.Contains(p, "..") {
			os.Remove(filepath.Join(dir, filepath.FromSlash(p)))
		}
	}
	return o.commitState()
}

func (o *Output) commitState() error {
	if o.stateDir == "" || o.state == nil {
		return nil
	}
	return saveState(o.stateDir, o.state)
}

// Unchanged says whether the output file p is the same as the previous
// incremental render's (false without one).
func (o *Output) Unchanged(p string) bool {
	if o.prevFiles == nil || o.state == nil {
		return false
	}
	h, ok := o.prevFiles[p]
	return ok && h != "" && o.state.Files[p] == h
}

// Changed lists the output files added, changed or removed since the
// previous incremental render, sorted; every file without one.
func (o *Output) Changed() []string {
	var out []string
	for _, p := range o.Paths() {
		if !o.Unchanged(p) {
			out = append(out, p)
		}
	}
	for p := range o.prevFiles {
		if _, ok := o.owner[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// State is what an incremental render leaves for the next one
// (Options.Previous).
type State struct{ st *renderState }

// State returns the render's state for the next incremental render;
// nil for a render that is not incremental.
func (o *Output) State() *State {
	if o.state == nil {
		return nil
	}
	return &State{o.state}
}

// CommitState saves the render's state for the next incremental
// render, for an output served from memory rather than written
// (WriteChanged saves it itself).
func (o *Output) CommitState() error { return o.commitState() }
