// Package web is the HTTPS front-end's serving half: it serves a
// rendered site tree (an fs.FS) over HTTP/1.1 and HTTP/2, routes virtual
// hosts, turns parked domains into redirects, and on plain HTTP answers
// ACME HTTP-01 and redirects to HTTPS. It shares its connections and
// requests fairly among clients (internal/fair), resets responses whose
// client does not read, publishes no dotfiles, and sets the headers a
// host or a site's _headers file asks for. Certificates come from whatever
// satisfies Certificates (package tls/certs in islet).
//
// The standard library's crypto/tls is imported as ctls throughout.
package web
