package images

import (
	"fmt"
	"io"
	"io/fs"
)

// cpioWriter writes the "newc" cpio format the kernel unpacks into its
// initramfs (Documentation/driver-api/early-userspace/buffer-format).
// Every entry gets the same mtime (0, or SOURCE_DATE_EPOCH), uid 0,
// gid 0 and an inode number in the order written, so the same entries
// always give the same bytes.
type cpioWriter struct {
	w     io.Writer
	n     int64
	ino   uint32
	mtime uint32
	err   error
}

const (
	cpioDir  = 0o040000
	cpioFile = 0o100000
	cpioChar = 0o020000
)

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// entry writes one header, name and data.
func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor uint32, data []byte) {
	c.ino++
	nlink := uint32(1)
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, c.mtime, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name))
	c.write([]byte{0})
	c.pad()
	c.write(data)
	c.pad()
}

func (c *cpioWriter) dir(name string, perm fs.FileMode) {
	c.entry(name, cpioDir|uint32(perm), 0, 0, nil)
}

func (c *cpioWriter) file(name string, perm fs.FileMode, data []byte) {
	c.entry(name, cpioFile|uint32(perm), 0, 0, data)
}

func (c *cpioWriter) charDev(name string, perm fs.FileMode, major, minor uint32) {
	c.entry(name, cpioChar|uint32(perm), major, minor, nil)
}

// close writes the trailer.
func (c *cpioWriter) close() error {
	c.ino = 0
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	return c.err
}
