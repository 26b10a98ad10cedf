// Package appliance composes islet: it reads the appliance's compile-time
// configuration (islet.yml), opens the network listeners and runs the
// services (authoritative DNS now; HTTPS and the userspace network stack
// as they arrive) until told to stop, reloading on request.
//
// It is the only package that knows the services exist; each of them
// takes plain net.PacketConn and net.Listener values and never learns
// which network stack they came from.
package appliance
