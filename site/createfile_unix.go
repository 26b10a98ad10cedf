//go:build unix

package site

import (
	"os"
	"syscall"
)

// createFile creates the new file name for writing, as os.Create does
// but without offering it to the runtime's poller: os.Create tries to
// register every file with epoll (four fcntl calls and an epoll_ctl
// that fails for a disk file), a third of writing a small file.
func createFile(name string) (*os.File, error) {
	fd, err := syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}
