// Package images packs bootable appliance images: a Linux kernel (the
// gokrazy build of upstream Linux, pinned in go.mod) and an initramfs
// whose only program is the islet guest binary as /init, written
// reproducibly (sorted entries, fixed times).
package images
