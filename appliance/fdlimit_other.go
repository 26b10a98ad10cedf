//go:build !linux

package appliance

// raiseFileLimit leaves the limit as it is where it is not Linux's.
func raiseFileLimit() uint64 { return 0 }
