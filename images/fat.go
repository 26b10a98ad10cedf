package images

import (
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf16"
)

// A FAT32 file system (Microsoft's FAT specification, 2005) written in
// one pass for the EFI system partition: folders and files laid out one
// after the other; a name is a short 8.3 one when it can be (upper case,
// or lower case through the case bits Windows, Linux and UEFI's FAT
// driver read), else a long name with a short alias (NAME~1.EXT); every
// time is 1980-01-01 00:00, so that the same files give the same octets.

const (
	fatReserved = 32 // sectors before the first FAT
	fatCopies   = 2
	fatEOC      = 0x0FFFFFFF
	dirEntryLen = 32
	attrDir     = 0x10
	attrArchive = 0x20
	attrVolume  = 0x08
	attrLong    = 0x0F // a long-name entry
	longChars   = 13   // UTF-16 units of a long name per entry
	caseLowBase = 0x08 // the name's base is shown in lower case
	caseLowExt  = 0x10 // and its extension
	fatDate1980 = 1<<5 | 1
	// minFATClusters is the fewest clusters a FAT32 file system has.
	minFATClusters = 65525
)

// fatFile is one file to write, at a slash-separated path.
type fatFile struct {
	path string
	data []byte
}

// fatNode is a folder or file of the tree being written.
type fatNode struct {
	name     [11]byte
	ntCase   byte
	long     string // the long name, when the short one cannot say it
	dir      bool
	data     []byte
	children []*fatNode
	cluster  uint32 // first cluster; 0 for an empty file
	clusters uint32
}

// shortName turns one path element into its 8.3 directory form.
func shortName(elem string) (name [11]byte, ntCase byte, err error) {
	base, ext, _ := strings.Cut(elem, ".")
	if base == "" || len(base) > 8 || len(ext) > 3 || strings.Contains(ext, ".") {
		return name, 0, fmt.Errorf("images: %q is not an 8.3 name", elem)
	}
	part := func(s string, lowBit byte) error {
		lower, upper := false, false
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= 'a' && c <= 'z':
				lower = true
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= '0' && c <= '9', c == '_', c == '-', c == '~':
			default:
				return fmt.Errorf("images: %q: %q cannot be in a short name", elem, c)
			}
		}
		if lower && upper {
			return fmt.Errorf("images: %q mixes cases, which a short name cannot keep", elem)
		}
		if lower {
			ntCase |= lowBit
		}
		return nil
	}
	if err := part(base, caseLowBase); err != nil {
		return name, 0, err
	}
	if err := part(ext, caseLowExt); err != nil {
		return name, 0, err
	}
	copy(name[:], strings.Repeat(" ", 11))
	copy(name[:8], strings.ToUpper(base))
	copy(name[8:], strings.ToUpper(ext))
	return name, ntCase, nil
}

// fatLayout is the geometry of a FAT32 file system of a given size.
type fatLayout struct {
	sectors   uint32 // in all
	fatSize   uint32 // sectors per FAT
	clusters  uint32 // data clusters
	secPerClu uint32
}

func newFATLayout(sectors uint32) (fatLayout, error) {
	l := fatLayout{sectors: sectors, secPerClu: 1}
	// Solve for the FAT size: every data cluster and the two reserved
	// entries need four octets in each copy.
	avail := sectors - fatReserved
	l.fatSize = (avail/l.secPerClu + 2 + sectorSize/4 - 1) / (sectorSize / 4)
	for {
		data := avail - fatCopies*l.fatSize
		l.clusters = data / l.secPerClu
		need := (l.clusters + 2 + sectorSize/4 - 1) / (sectorSize / 4)
		if need <= l.fatSize {
			break
		}
		l.fatSize = need
	}
	if l.clusters < minFATClusters {
		return l, fmt.Errorf("images: %d sectors are too few for FAT32", sectors)
	}
	return l, nil
}

// clusterSize is the octets of one cluster.
func (l fatLayout) clusterSize() uint32 { return l.secPerClu * sectorSize }

// clusterOffset is where cluster c starts, in octets from the file
// system's start.
func (l fatLayout) clusterOffset(c uint32) int64 {
	return int64(fatReserved+fatCopies*l.fatSize+(c-2)*l.secPerClu) * sectorSize
}

// writeFAT32 writes a FAT32 file system of size octets holding files at
// offset off of w. hidden is the number of sectors before it on the disk
// (the partition's first sector); serial is the volume's serial number.
func writeFAT32(w io.WriterAt, off int64, fsSize int64, hidden uint32, serial uint32, label string, files []fatFile) error {
	l, err := newFATLayout(uint32(fsSize / sectorSize))
	if err != nil {
		return err
	}
	root := &fatNode{dir: true}
	for _, f := range files {
		if err := root.add(strings.Split(path.Clean(f.path), "/"), f.data); err != nil {
			return err
		}
	}
	// Clusters in order: each folder, then what it holds, depth first.
	next := uint32(2)
	fat := make([]uint32, 2, 64)
	fat[0], fat[1] = 0x0FFFFFF8, fatEOC
	var assign func(n *fatNode, isRoot bool) error
	assign = func(n *fatNode, isRoot bool) error {
		size := uint32(len(n.data))
		if n.dir {
			size = 2 * dirEntryLen // "." and ".."
			if isRoot {
				size = dirEntryLen // the volume label
			}
			for _, c := range n.children {
				size += c.dirSize()
			}
		}
		if size > 0 || n.dir {
			n.clusters = max(1, (size+l.clusterSize()-1)/l.clusterSize())
			if next-2+n.clusters > l.clusters {
				return fmt.Errorf("images: the files do not fit in a FAT32 file system of %d MiB", fsSize>>20)
			}
			n.cluster = next
			for i := uint32(0); i < n.clusters; i++ {
				if i == n.clusters-1 {
					fat = append(fat, fatEOC)
				} else {
					fat = append(fat, next+i+1)
				}
			}
			next += n.clusters
		}
		for _, c := range n.children {
			if err := assign(c, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := assign(root, true); err != nil {
		return err
	}

	// Boot sector, its backup at sector 6, and the FSInfo sector with its
	// backup at 7.
	boot := make([]byte, sectorSize)
	copy(boot, []byte{0xEB, 0x58, 0x90})
	copy(boot[3:], "ISLET   ")
	binary.LittleEndian.PutUint16(boot[11:], sectorSize)
	boot[13] = byte(l.secPerClu)
	binary.LittleEndian.PutUint16(boot[14:], fatReserved)
	boot[16] = fatCopies
	boot[21] = 0xF8 // fixed disk
	binary.LittleEndian.PutUint16(boot[24:], 63)
	binary.LittleEndian.PutUint16(boot[26:], 255)
	binary.LittleEndian.PutUint32(boot[28:], hidden)
	binary.LittleEndian.PutUint32(boot[32:], l.sectors)
	binary.LittleEndian.PutUint32(boot[36:], l.fatSize)
	binary.LittleEndian.PutUint32(boot[44:], 2) // the root folder's cluster
	binary.LittleEndian.PutUint16(boot[48:], 1) // FSInfo
	binary.LittleEndian.PutUint16(boot[50:], 6) // backup boot sector
	boot[64] = 0x80
	boot[66] = 0x29
	binary.LittleEndian.PutUint32(boot[67:], serial)
	vol := volumeLabel(label)
	copy(boot[71:], vol[:])
	copy(boot[82:], "FAT32   ")
	boot[510], boot[511] = 0x55, 0xAA
	info := make([]byte, sectorSize)
	binary.LittleEndian.PutUint32(info[0:], 0x41615252)
	binary.LittleEndian.PutUint32(info[484:], 0x61417272)
	binary.LittleEndian.PutUint32(info[488:], l.clusters-(next-2))
	binary.LittleEndian.PutUint32(info[492:], next)
	binary.LittleEndian.PutUint32(info[508:], 0xAA550000)
	for _, s := range []struct {
		sector int64
		data   []byte
	}{{0, boot}, {1, info}, {6, boot}, {7, info}} {
		if _, err := w.WriteAt(s.data, off+s.sector*sectorSize); err != nil {
			return fmt.Errorf("images: write the ESP: %w", err)
		}
	}
	// The two FATs: only the entries in use are written; the rest of
	// the image is zero, which is "free".
	table := make([]byte, 4*len(fat))
	for i, v := range fat {
		binary.LittleEndian.PutUint32(table[4*i:], v)
	}
	for i := int64(0); i < fatCopies; i++ {
		if _, err := w.WriteAt(table, off+(fatReserved+i*int64(l.fatSize))*sectorSize); err != nil {
			return fmt.Errorf("images: write the ESP: %w", err)
		}
	}
	// Folders and files.
	var write func(n, parent *fatNode, isRoot bool) error
	write = func(n, parent *fatNode, isRoot bool) error {
		data := n.data
		if n.dir {
			var d []byte
			if isRoot {
				d = append(d, dirEntry(vol, 0, attrVolume, 0, 0)...)
			} else {
				dot, dotdot := [11]byte{'.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}, [11]byte{'.', '.', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '}
				up := parent.cluster
				if up == 2 {
					up = 0 // ".." of a folder in the root names cluster 0
				}
				d = append(d, dirEntry(dot, 0, attrDir, n.cluster, 0)...)
				d = append(d, dirEntry(dotdot, 0, attrDir, up, 0)...)
			}
			for _, c := range n.children {
				attr := byte(attrArchive)
				size := uint32(len(c.data))
				if c.dir {
					attr, size = attrDir, 0
				}
				if c.long != "" {
					d = append(d, longEntries(c.long, c.name)...)
				}
				d = append(d, dirEntry(c.name, c.ntCase, attr, c.cluster, size)...)
			}
			data = d
		}
		if len(data) > 0 {
			if _, err := w.WriteAt(data, off+l.clusterOffset(n.cluster)); err != nil {
				return fmt.Errorf("images: write the ESP: %w", err)
			}
		}
		for _, c := range n.children {
			if err := write(c, n, false); err != nil {
				return err
			}
		}
		return nil
	}
	return write(root, nil, true)
}

// add puts a file at the path below n, making the folders on the way.
func (n *fatNode) add(elems []string, data []byte) error {
	elem := elems[0]
	var child *fatNode
	for _, c := range n.children {
		if strings.EqualFold(c.display(), elem) {
			child = c
		}
	}
	last := len(elems) == 1
	if child == nil {
		name, ntCase, err := shortName(elem)
		long := ""
		if err == nil && n.taken(name) {
			err = fmt.Errorf("images: %q is another name's alias", elem)
		}
		if err != nil {
			if name, err = n.alias(elem); err != nil {
				return err
			}
			ntCase, long = 0, elem
		}
		child = &fatNode{name: name, ntCase: ntCase, long: long, dir: !last}
		n.children = append(n.children, child)
		sort.Slice(n.children, func(i, j int) bool { return string(n.children[i].name[:]) < string(n.children[j].name[:]) })
	} else if last || !child.dir {
		return fmt.Errorf("images: %s is in the ESP twice", strings.Join(elems, "/"))
	}
	if last {
		child.data = data
		return nil
	}
	return child.add(elems[1:], data)
}

// display is the name as it is shown.
func (n *fatNode) display() string {
	if n.long != "" {
		return n.long
	}
	base, ext := strings.TrimRight(string(n.name[:8]), " "), strings.TrimRight(string(n.name[8:]), " ")
	if n.ntCase&caseLowBase != 0 {
		base = strings.ToLower(base)
	}
	if n.ntCase&caseLowExt != 0 {
		ext = strings.ToLower(ext)
	}
	if ext != "" {
		return base + "." + ext
	}
	return base
}

// alias makes the short name of a long one, BASE~N.EXT, unique among
// n's children.
func (n *fatNode) alias(long string) ([11]byte, error) {
	var name [11]byte
	if len(long) > 255 || long == "" {
		return name, fmt.Errorf("images: %q cannot be a file name", long)
	}
	keep := func(s string, max int) string {
		var b []byte
		for i := 0; i < len(s) && len(b) < max; i++ {
			c := s[i]
			switch {
			case c >= 'a' && c <= 'z':
				b = append(b, c-'a'+'A')
			case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
				b = append(b, c)
			case c < 0x20 || c == '/' || c == '\\' || c >= 0x80:
				return ""
			}
		}
		return string(b)
	}
	base, ext := long, ""
	if i := strings.LastIndexByte(long, '.'); i > 0 {
		base, ext = long[:i], long[i+1:]
	}
	b, e := keep(base, 6), keep(ext, 3)
	if b == "" {
		return name, fmt.Errorf("images: %q cannot be a file name on the ESP", long)
	}
	for i := 1; i < 10; i++ {
		copy(name[:], strings.Repeat(" ", 11))
		copy(name[:8], fmt.Sprintf("%s~%d", b, i))
		copy(name[8:], e)
		if !n.taken(name) {
			return name, nil
		}
	}
	return name, fmt.Errorf("images: too many names like %q in one folder", long)
}

// taken reports whether a child of n has the short name.
func (n *fatNode) taken(name [11]byte) bool {
	for _, c := range n.children {
		if c.name == name {
			return true
		}
	}
	return false
}

// longEntries are the directory entries that carry a long name, in the
// order they precede its short entry.
func longEntries(long string, short [11]byte) []byte {
	var sum byte
	for _, c := range short {
		sum = (sum>>1 | sum<<7) + c
	}
	units := utf16.Encode([]rune(long))
	count := (len(units) + longChars - 1) / longChars
	// After the name: one NUL, then 0xFFFF to the end of the entry.
	padded := make([]uint16, count*longChars)
	for i := range padded {
		switch {
		case i < len(units):
			padded[i] = units[i]
		case i == len(units):
			padded[i] = 0
		default:
			padded[i] = 0xFFFF
		}
	}
	out := make([]byte, 0, count*dirEntryLen)
	for seq := count; seq >= 1; seq-- {
		e := make([]byte, dirEntryLen)
		e[0] = byte(seq)
		if seq == count {
			e[0] |= 0x40
		}
		e[11], e[13] = attrLong, sum
		chunk := padded[(seq-1)*longChars : seq*longChars]
		at := []int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30}
		for i, u := range chunk {
			binary.LittleEndian.PutUint16(e[at[i]:], u)
		}
		out = append(out, e...)
	}
	return out
}

// dirSize is the octets of the entries naming n in its folder.
func (n *fatNode) dirSize() uint32 {
	if n.long == "" {
		return dirEntryLen
	}
	return uint32((len(utf16.Encode([]rune(n.long)))+longChars-1)/longChars+1) * dirEntryLen
}

// volumeLabel is a label in its 11-octet form.
func volumeLabel(s string) [11]byte {
	var v [11]byte
	copy(v[:], strings.Repeat(" ", 11))
	copy(v[:], strings.ToUpper(s))
	return v
}

// dirEntry is one 32-octet directory entry.
func dirEntry(name [11]byte, ntCase, attr byte, cluster, size uint32) []byte {
	e := make([]byte, dirEntryLen)
	copy(e, name[:])
	e[11] = attr
	e[12] = ntCase
	binary.LittleEndian.PutUint16(e[16:], fatDate1980) // created
	binary.LittleEndian.PutUint16(e[18:], fatDate1980) // accessed
	binary.LittleEndian.PutUint16(e[20:], uint16(cluster>>16))
	binary.LittleEndian.PutUint16(e[24:], fatDate1980) // written
	binary.LittleEndian.PutUint16(e[26:], uint16(cluster))
	binary.LittleEndian.PutUint32(e[28:], size)
	return e
}
