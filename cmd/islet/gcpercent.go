package main

import (
	"os"
	"runtime/debug"
)

// renderGCPercent is the collector's target for a command that renders
// a site and exits: a render allocates its site a few times over in a
// fraction of a second, and at Go's default of 100 the collector ran
// thirty times during just-the-docs' render. At 400 a render takes
// 10-25% less time here (the blog of 600 posts: 152 → 125 ms) for a
// peak of some 10-30 MB more.
const renderGCPercent = 400

// collectForRender sets the collector's target for rendering, unless
// GOGC says otherwise.
func collectForRender() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(renderGCPercent)
	}
}
