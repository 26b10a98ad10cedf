package markup

// Fences follows fenced code blocks through a Markdown source, line by
// line, for the passes that read the source before goldmark does.
type Fences struct{ open string }

// Code reports whether line opens or closes a fence or lies inside
// fenced code: what a pass on the source must leave alone.
func (f *Fences) Code(line string) bool {
	if m := fenceLine().FindStringSubmatch(line); m != nil {
		switch {
		case f.open == "":
			f.open = m[1][:1]
		case m[1][:1] == f.open:
			f.open = ""
		}
		return true
	}
	return f.open != ""
}
