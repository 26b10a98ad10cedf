package images

import (
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"path"
)

// WriteInitramfs writes a gzip-compressed newc initramfs holding the
// guest binary as /init, the mount points it needs (/dev, /proc, /sys,
// /state), /dev/console, which the kernel opens for init's standard
// streams before devtmpfs is mounted, and the regular files of data
// under /appliance. The output depends only on init's bytes, the data's
// names, permissions and contents, and mtime (seconds since 1970, every
// entry's time: 0 or SOURCE_DATE_EPOCH).
func WriteInitramfs(w io.Writer, init []byte, data fs.FS, mtime uint32) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// No name and a zero time in the gzip header: reproducible.
	c := &cpioWriter{w: zw, mtime: mtime}
	c.dir("appliance", 0o755)
	if data != nil {
		if err := addTree(c, data); err != nil {
			return err
		}
	}
	c.dir("dev", 0o755)
	c.charDev("dev/console", 0o600, 5, 1)
	c.file("init", 0o755, init)
	c.dir("proc", 0o555)
	c.dir("state", 0o700)
	c.dir("sys", 0o555)
	if err := c.close(); err != nil {
		return fmt.Errorf("images: initramfs: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("images: initramfs: %w", err)
	}
	return nil
}

// addTree adds every directory and regular file of data under
// appliance/, in lexical order (fs.WalkDir's), with 0755 and 0644, or
// 0600 for a file only its owner may read (a private key).
func addTree(c *cpioWriter, data fs.FS) error {
	return fs.WalkDir(data, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("images: %s: %w", p, err)
		}
		switch {
		case p == ".":
		case d.IsDir():
			c.dir(path.Join("appliance", p), 0o755)
		case d.Type().IsRegular():
			b, err := fs.ReadFile(data, p)
			if err != nil {
				return fmt.Errorf("images: %s: %w", p, err)
			}
			perm := fs.FileMode(0o644)
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o044 == 0 {
				perm = 0o600
			}
			c.file(path.Join("appliance", p), perm, b)
		}
		return nil
	})
}
