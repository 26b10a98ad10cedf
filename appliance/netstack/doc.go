// Package netstack runs the appliance's own userspace TCP/IP stack
// (gVisor's netstack) on a link — a TAP device, a raw packet socket on a
// NIC without a kernel address, or an in-memory pipe for tests — and
// hands out net.PacketConn and net.Listener values on it, so that the
// DNS and HTTPS servers run unchanged on either stack.
//
// It is the only package that imports gVisor.
package netstack
