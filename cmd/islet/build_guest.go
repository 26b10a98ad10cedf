//go:build guest

package main

import (
	"flag"
	"fmt"
	"io"
)

// The guest binary neither builds images nor boots them.

type qemuFlags struct{}

func (q *qemuFlags) register(*flag.FlagSet) {}

func cmdBuild(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "islet build: not part of the appliance image's binary")
	return 2
}

func runQemu(_ *flag.FlagSet, _ *serveFlags, _ *qemuFlags, _ string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "islet run --target qemu: not part of the appliance image's binary")
	return 2
}

// cmdDeploy is not part of the guest binary.
func cmdDeploy(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "islet deploy: not part of the appliance image")
	return 2
}
