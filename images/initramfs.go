package images

import (
	"compress/gzip"
	"fmt"
	"io"
)

// WriteInitramfs writes a gzip-compressed newc initramfs holding the
// guest binary as /init, the mount points it needs (/dev, /proc, /sys,
// /state) and /dev/console, which the kernel opens for init's standard
// streams before devtmpfs is mounted. The output depends only on init's
// bytes.
func WriteInitramfs(w io.Writer, init []byte) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// No name and a zero time in the gzip header: reproducible.
	c := &cpioWriter{w: zw}
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
