//go:build !unix

package site

import "os"

// createFile creates the new file name for writing.
func createFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}
