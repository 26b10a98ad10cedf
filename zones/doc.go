// Package zones loads RFC 1035 zone files and answers authoritative DNS
// queries from them.
//
// Loading ([LoadDir]) parses every zone file of a directory with
// miekg/dns's zone parser (a big file in pieces on every core, pieces of
// the plainest entries with a reader of its own that writes wire form
// straight away), validates each zone the
// way named-checkzone and nsd-checkzone do, and reports problems as
// "file:line: message" [Diagnostic]s. A directory with any error yields
// no [Set] at all, so a broken zone is never served. A loaded zone keeps
// its records in wire form, as NSD does.
//
// Answering follows RFC 1034 §4.3.2 and its successors: closest enclosing
// zone, referrals at delegations (RFC 1034), CNAME chains, DNAME synthesis
// (RFC 6672), wildcards (RFC 4592), negative answers (RFC 2308), ANY
// (RFC 8482), EDNS(0) (RFC 6891), truncation (RFC 2181 §9), TCP
// (RFC 7766), DNS Cookies (RFC 7873, RFC 9018) and NSID (RFC 5001).
// Signed zones are served with their DNSSEC records to queries with the
// DO bit (RFC 4035, RFC 5155): RRSIGs, DS in referrals and NSEC or NSEC3
// denial proofs, as the signer wrote them. A [Signer] signs zones itself
// with the BIND-format keys of a [KeyStore]: at load, with NSEC, NSEC3 or
// compact denial (RFC 9824, the only signing done per query), again
// before the signatures run out ([Server.KeepSigned]), and through key
// rollovers ([StartRollover]).
//
// Zones go to secondaries by transfer: AXFR over TCP (RFC 5936), and
// IXFR (RFC 1995) from the differences a [Journal] kept between the
// versions served, to the addresses and keys of [Config].AllowTransfer. Requests signed with a [TSIGKey] (RFC 8945)
// are verified and answered signed, every message of a transfer too.
// [Server.Notify] tells secondaries of a zone loaded or changed
// (RFC 1996), and [Server.Follow] makes islet itself the secondary of
// other primaries. [Catalog] makes a catalog zone (RFC 9432) of the
// zones served.
//
// A [Set] is immutable once loaded and safe for concurrent use; the
// [Server] swaps whole sets atomically on reload. Responses are compiled
// to wire format the first time a (name, type) is asked and then copied
// with the ID, question case and EDNS record patched in, as NSD does.
package zones
