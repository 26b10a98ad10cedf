//go:build guest

package main

import (
	"fmt"
	"io"
)

// cmdRender: the guest binary has no renderer.
func cmdRender(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "islet render: not part of the appliance image's binary")
	return 2
}
