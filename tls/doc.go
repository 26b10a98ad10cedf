// Package tls is islet's HTTPS front-end: it serves a rendered site tree
// (an fs.FS) over HTTP/1.1 and HTTP/2 with certificates it obtains itself
// (ACME through autocert, a self-signed fallback, or a pair the user
// brings), routes virtual hosts, and turns parked domains into redirects.
//
// The standard library's crypto/tls is imported as ctls throughout.
package tls
