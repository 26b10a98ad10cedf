// Package certs hands out the certificates of the HTTPS front-end: a
// pair the user brings (stapled with OCSP), ACME certificates (RFC 8555)
// it orders itself through HTTP-01 or TLS-ALPN-01 or, for wildcard
// names, DNS-01 answered by islet's own DNS (with secondaries,
// validated only once they all serve the challenge), and a self-signed
// fallback until they arrive. Orders are held to 3 a name in 7 days and
// to the CA's rate limits (guard.go), retried soon while the CA cannot
// be reached, and renewed as the CA's renewal information says (RFC
// 9773, ari.go). It serves nothing itself: a Manager's GetCertificate
// and HTTPHandler are what a server plugs in.
//
// The standard library's crypto/tls is imported as ctls throughout.
package certs
