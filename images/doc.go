// Package images packs bootable appliance images: a Linux kernel (the
// gokrazy build of upstream Linux, pinned in go.mod) and an initramfs
// whose only program is the islet guest binary as /init, written
// reproducibly (sorted entries, fixed times); the state disk; the
// deploy descriptors (qemu, libvirt, Xen, Firecracker,
// cloud-hypervisor); booting the image under qemu; and deploying it to
// libvirt (go-libvirt) with a health check and rollback (deploy.go).
package images
