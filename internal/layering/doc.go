// Package layering holds no code: its tests check, for every package of
// the module as go list finds it, that imports point the way DESIGN.md
// says (cmd → appliance, images → zones, site, tls/certs, tls/web, which
// never import each other), that each heavy third-party module enters
// through one package, and that each package's doc comment names it.
package layering
