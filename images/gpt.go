package images

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf16"
)

// The GUID partition table (UEFI 2.10 §5.3) of a disk image: a
// protective MBR, the primary header and entry array at its start, and
// their backup copies at its end.

const (
	sectorSize  = 512
	gptEntries  = 128 // entries in the array, 128 octets each: 32 sectors
	gptEntryLen = 128
	// gptSectors is the header and the entry array, at each end.
	gptSectors = 1 + gptEntries*gptEntryLen/sectorSize
)

// The partition type GUIDs.
var (
	espType   = mustGUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B") // EFI system partition
	linuxType = mustGUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4") // Linux file system data
)

// guid is a GUID in its on-disk form: the first three fields little
// endian, the rest as written.
type guid [16]byte

func mustGUID(s string) guid {
	g, err := parseGUID(s)
	if err != nil {
		panic(err) // only for the constants above
	}
	return g
}

// parseGUID reads the textual form, 8-4-4-4-12 hex digits.
func parseGUID(s string) (guid, error) {
	var g guid
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("images: bad GUID %q", s)
	}
	var raw [16]byte
	j := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return g, fmt.Errorf("images: bad GUID %q", s)
		}
		raw[j] = hi<<4 | lo
		j++
		i++
	}
	// time_low, time_mid and time_hi are stored little endian.
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String is the textual form.
func (g guid) String() string {
	return fmt.Sprintf("%02X%02X%02X%02X-%02X%02X-%02X%02X-%X-%X", g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8:10], g[10:])
}

// guidFrom makes a GUID (version 4 layout) from 16 octets of a hash, so
// that the same image gets the same GUIDs.
func guidFrom(b []byte) guid {
	var g guid
	copy(g[:], b)
	g[7] = g[7]&0x0f | 0x40 // version 4, in the little-endian time_hi
	g[8] = g[8]&0x3f | 0x80 // RFC 4122 variant
	return g
}

// partition is one entry of the table, in sectors.
type partition struct {
	typ, id     guid
	first, last uint64 // inclusive
	name        string
}

// writeGPT writes the protective MBR and both copies of the table of a
// disk of the given number of sectors.
func writeGPT(w io.WriterAt, sectors uint64, disk guid, parts []partition) error {
	if len(parts) > gptEntries {
		return fmt.Errorf("images: %d partitions, at most %d", len(parts), gptEntries)
	}
	firstUsable, lastUsable := uint64(1+gptSectors), sectors-1-gptSectors
	for _, p := range parts {
		if p.first < firstUsable || p.last > lastUsable || p.last < p.first {
			return fmt.Errorf("images: partition %q (sectors %d-%d) outside %d-%d", p.name, p.first, p.last, firstUsable, lastUsable)
		}
	}

	mbr := make([]byte, sectorSize)
	e := mbr[446:]
	e[1], e[2], e[3] = 0x00, 0x02, 0x00 // CHS of sector 1
	e[4] = 0xEE                         // GPT protective
	e[5], e[6], e[7] = 0xFF, 0xFF, 0xFF
	binary.LittleEndian.PutUint32(e[8:], 1)
	binary.LittleEndian.PutUint32(e[12:], uint32(min(sectors-1, 0xFFFFFFFF)))
	mbr[510], mbr[511] = 0x55, 0xAA
	if _, err := w.WriteAt(mbr, 0); err != nil {
		return fmt.Errorf("images: write the MBR: %w", err)
	}

	array := make([]byte, gptEntries*gptEntryLen)
	for i, p := range parts {
		a := array[i*gptEntryLen:]
		copy(a[0:], p.typ[:])
		copy(a[16:], p.id[:])
		binary.LittleEndian.PutUint64(a[32:], p.first)
		binary.LittleEndian.PutUint64(a[40:], p.last)
		for j, u := range utf16.Encode([]rune(p.name)) {
			if j == 36 {
				break
			}
			binary.LittleEndian.PutUint16(a[56+2*j:], u)
		}
	}
	arrayCRC := crc32.ChecksumIEEE(array)

	header := func(self, other, entries uint64) []byte {
		h := make([]byte, sectorSize)
		copy(h, "EFI PART")
		binary.LittleEndian.PutUint32(h[8:], 0x00010000)
		binary.LittleEndian.PutUint32(h[12:], 92)
		binary.LittleEndian.PutUint64(h[24:], self)
		binary.LittleEndian.PutUint64(h[32:], other)
		binary.LittleEndian.PutUint64(h[40:], firstUsable)
		binary.LittleEndian.PutUint64(h[48:], lastUsable)
		copy(h[56:], disk[:])
		binary.LittleEndian.PutUint64(h[72:], entries)
		binary.LittleEndian.PutUint32(h[80:], gptEntries)
		binary.LittleEndian.PutUint32(h[84:], gptEntryLen)
		binary.LittleEndian.PutUint32(h[88:], arrayCRC)
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		return h
	}
	last := sectors - 1
	backupArray := last - (gptSectors - 1)
	for _, part := range []struct {
		at   uint64
		data []byte
	}{
		{1, header(1, last, 2)},
		{2, array},
		{backupArray, array},
		{last, header(last, 1, backupArray)},
	} {
		if _, err := w.WriteAt(part.data, int64(part.at*sectorSize)); err != nil {
			return fmt.Errorf("images: write the partition table: %w", err)
		}
	}
	return nil
}
