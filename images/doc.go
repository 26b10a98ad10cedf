// Package images packs bootable appliance images: a Linux kernel (the
// gokrazy build of upstream Linux, pinned in go.mod) and an initramfs
// whose only program is the islet guest binary as /init, written
// reproducibly (sorted entries, fixed times); the state disk; a GPT
// disk image for UEFI machines and clouds, its FAT32 system partition
// written here (disk.go, gpt.go, fat.go); the deploy descriptors (qemu,
// libvirt, Xen, Firecracker, cloud-hypervisor); booting the image under
// qemu, directly or through OVMF; and deploying it to libvirt
// (go-libvirt, over SSH too) with a health check and rollback
// (deploy.go, sshtunnel.go).
package images
