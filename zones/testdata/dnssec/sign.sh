#!/usr/bin/env bash
# Signs signed.example.zone into the fixtures the fast tests serve:
# nsec/, nsec3/ and optout/ (ldns-signzone, whose opt-out only sets the
# flag) and bind-nsec3/ and bind-optout/ (dnssec-signzone, whose opt-out
# leaves insecure delegations out of the chain), with fresh ECDSA P-256 keys and signatures valid
# until 2055. The keys are thrown away; each variant's trust anchor is
# kept beside its folder as VARIANT.ds. Run it after changing the source
# zone, then record the answers again:
#   go test -tags peers -run Signed ./zones -update
# With a folder argument it writes the variants there instead (the peers
# tests sign afresh at test time that way).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/signed.example.zone" "$work/"
(
	cd "$work"
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k signed.example)
	zsk=$(ldns-keygen -a ECDSAP256SHA256 signed.example)
	ldns-signzone -e 20550101000000 -f nsec.zone signed.example.zone "$ksk" "$zsk"
	ldns-signzone -n -s 5ca1ab1e -t 0 -e 20550101000000 -f nsec3.zone signed.example.zone "$ksk" "$zsk"
	ldns-signzone -n -p -s 5ca1ab1e -t 0 -e 20550101000000 -f optout.zone signed.example.zone "$ksk" "$zsk"
	cp "$ksk.ds" ldns.ds
	dnssec-keygen -q -a ECDSAP256SHA256 -f KSK signed.example >/dev/null
	dnssec-keygen -q -a ECDSAP256SHA256 signed.example >/dev/null
	dnssec-signzone -q -S -K . -e 20550101000000 -3 beef -H 0 -o signed.example -f bind-nsec3.zone signed.example.zone >/dev/null
	dnssec-signzone -q -S -K . -e 20550101000000 -3 beef -H 0 -A -o signed.example -f bind-optout.zone signed.example.zone >/dev/null
	dnssec-dsfromkey -2 "$(grep -l 'key-signing' Ksigned.example.+013+*.key | head -1)" > bind.ds
)
for v in nsec nsec3 optout bind-nsec3 bind-optout; do
	mkdir -p "$out/$v"
	cp "$work/$v.zone" "$out/$v/signed.example.zone"
done
for v in nsec nsec3 optout; do cp "$work/ldns.ds" "$out/$v.ds"; done
cp "$work/bind.ds" "$out/bind-nsec3.ds"
cp "$work/bind.ds" "$out/bind-optout.ds"
