//go:build peers

package liquid

import "testing"

// TestRubyLive renders every case with the installed Ruby Liquid and
// compares: the golden file must not go stale.
func TestRubyLive(t *testing.T) {
	compareWith(t, rubyResults(t))
}
