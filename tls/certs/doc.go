// Package certs hands out the certificates of the HTTPS front-end: a
// pair the user brings (stapled with OCSP), ACME certificates obtained
// and renewed through autocert (TLS-ALPN-01, HTTP-01) or, for wildcard
// names, through DNS-01 answered by islet's own DNS (RFC 8555; with
// secondaries, validated only once they all serve the challenge), and a
// self-signed fallback until they arrive. It serves nothing itself: a
// Manager's GetCertificate and HTTPHandler are what a server plugs in.
//
// The standard library's crypto/tls is imported as ctls throughout.
package certs
