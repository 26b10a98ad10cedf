//go:build race

package web

// raceOn: the race detector makes stacks and allocations larger.
const raceOn = true
