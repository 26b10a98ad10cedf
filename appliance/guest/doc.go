// Package guest is islet as PID 1 of the appliance image: it mounts
// what the services need and the state disk, reads the boot settings
// from the kernel command line (islet.NAME=VALUE), gives eth0 to the
// userspace stack (or its addresses to the kernel's, with
// islet.net=host), supervises the services — a failure restarts them,
// failures that go on reboot the machine — and powers the machine off
// on a deliberate stop (SIGTERM, Ctrl-Alt-Del, the ACPI power button,
// "islet.shutdown" on the console).
package guest
