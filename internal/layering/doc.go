// Package layering holds no code: its test checks that imports point the
// way DESIGN.md says (cmd → appliance → zones, tls) and that each heavy
// third-party module is imported by one package only.
package layering
