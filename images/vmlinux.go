package images

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Vmlinux unpacks the ELF kernel from a bzImage, as the kernel's
// scripts/extract-vmlinux does: Firecracker boots only ELF kernels. The
// payload's place comes from the boot protocol's header (setup_sects,
// payload_offset, payload_length); zstd and gzip payloads are known.
func Vmlinux(bzImage []byte) ([]byte, error) {
	if len(bzImage) < 0x250 || string(bzImage[0x202:0x206]) != "HdrS" {
		return nil, errors.New("images: the kernel is not a bzImage (no HdrS header)")
	}
	setup := int(bzImage[0x1f1])
	if setup == 0 {
		setup = 4
	}
	start := (setup + 1) * 512
	off := int(binary.LittleEndian.Uint32(bzImage[0x248:]))
	n := int(binary.LittleEndian.Uint32(bzImage[0x24c:]))
	if start+off < start || start+off+n > len(bzImage) || n < 8 {
		return nil, fmt.Errorf("images: the bzImage's payload (%d bytes at %d) is not inside it", n, start+off)
	}
	payload := bzImage[start+off : start+off+n]
	// The kernel's build appends the unpacked size, little-endian, to
	// the compressed stream.
	size := int(binary.LittleEndian.Uint32(payload[n-4:]))
	var out []byte
	var err error
	switch {
	case bytes.HasPrefix(payload, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		var d *zstd.Decoder
		if d, err = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(1<<30)); err == nil {
			out, err = d.DecodeAll(payload[:n-4], make([]byte, 0, size))
			d.Close()
		}
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(payload[:n-4])); err == nil {
			zr.Multistream(false)
			out, err = io.ReadAll(zr)
		}
	default:
		return nil, fmt.Errorf("images: the bzImage's payload is compressed in a way islet does not unpack (% x)", payload[:4])
	}
	if err != nil {
		return nil, fmt.Errorf("images: unpack the kernel: %w", err)
	}
	if len(out) != size {
		return nil, fmt.Errorf("images: unpacked kernel is %d bytes, its header says %d", len(out), size)
	}
	if _, err := elf.NewFile(bytes.NewReader(out)); err != nil {
		return nil, fmt.Errorf("images: unpacked kernel: %w", err)
	}
	return out, nil
}
