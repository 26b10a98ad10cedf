package site

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/unix"
)

var errNotRegular = errors.New("not a regular file")

// readBeneath reads name below dir with openat2(RESOLVE_BENEATH): the
// kernel refuses any path that leaves dir, through ".." or a symbolic
// link. ok is false when it could not (an old kernel, a refused or
// missing path): the caller then asks the root, for the root's error.
// A file that is not a regular one (a FIFO would block the read) is an
// error.
func readBeneath(dir int, name string) (data []byte, ok bool, err error) {
	fd, err := unix.Openat2(dir, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, false, nil
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, false, nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, true, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	data = make([]byte, 0, int(st.Size)+1)
	for {
		n, err := unix.Read(fd, data[len(data):cap(data)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false, nil
		}
		if n == 0 {
			return data, true, nil
		}
		data = data[:len(data)+n]
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grown while read
		}
	}
}
