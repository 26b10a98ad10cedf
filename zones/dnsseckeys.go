package zones

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// ParseAlgorithm reads a DNSSEC signing algorithm by name or number:
// "ecdsap256sha256" (13, the default of new keys) or "ed25519" (15).
// RSA keys made by other tools are read, but islet does not create
// them: they sign about 40 times slower.
func ParseAlgorithm(s string) (uint8, error) {
	switch strings.ToLower(s) {
	case "", "13", "ecdsap256sha256", "ecdsa", "p256", "ecdsa-p256":
		return dns.ECDSAP256SHA256, nil
	case "15", "ed25519":
		return dns.ED25519, nil
	case "14", "ecdsap384sha384":
		return dns.ECDSAP384SHA384, nil
	}
	return 0, fmt.Errorf("DNSSEC algorithm %q: want ecdsap256sha256 or ed25519", s)
}

// signingAlgorithm reports whether islet signs with keys of algorithm a.
func signingAlgorithm(a uint8) bool {
	switch a {
	case dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// SigningKey is one DNSSEC key of a zone, as a pair of BIND-format
// files: K<zone>+<alg>+<tag>.key holding the DNSKEY record and .private
// holding the private key and the key's timing (RFC 7583).
type SigningKey struct {
	DNSKEY *dns.DNSKEY
	File   string // the .key file
	signer crypto.Signer
	// The key's timing, BIND's; zero when not set. Publish: in the
	// DNSKEY RRset from then on; Activate: signs from then on;
	// Inactive: signs no more; Delete: out of the DNSKEY RRset;
	// SyncPublish and SyncDelete: named by CDS and CDNSKEY from then
	// on, and no more (RFC 7344).
	Created, Publish, Activate, Inactive, Delete, SyncPublish, SyncDelete time.Time
}

// Tag is the key's key tag (RFC 4034 Appendix B).
func (k *SigningKey) Tag() uint16 { return k.DNSKEY.KeyTag() }

// SEP reports whether the key is a key-signing (or combined) key: the
// one the parent's DS names.
func (k *SigningKey) SEP() bool { return k.DNSKEY.Flags&dns.SEP != 0 }

// published reports whether the key belongs in the DNSKEY RRset at t.
func (k *SigningKey) published(t time.Time) bool {
	return !t.Before(k.Publish) && (k.Delete.IsZero() || t.Before(k.Delete))
}

// active reports whether the key signs at t.
func (k *SigningKey) active(t time.Time) bool {
	return k.published(t) && !t.Before(k.Activate) && (k.Inactive.IsZero() || t.Before(k.Inactive))
}

// Synced reports whether CDS and CDNSKEY name the key at t, and so the
// parent's DS should: a key-signing key from SyncPublish (or, without
// one, while it signs) until SyncDelete.
func (k *SigningKey) Synced(t time.Time) bool {
	if !k.SEP() || !k.published(t) || !k.SyncDelete.IsZero() && !t.Before(k.SyncDelete) {
		return false
	}
	if !k.SyncPublish.IsZero() {
		return !t.Before(k.SyncPublish)
	}
	return k.active(t)
}

// nextEvent is the first time after t at which the key's state changes;
// zero when none is due.
func (k *SigningKey) nextEvent(t time.Time) time.Time {
	var next time.Time
	for _, e := range k.timing()[1:] {
		if e.After(t) && (next.IsZero() || e.Before(next)) {
			next = *e
		}
	}
	return next
}

// KeyStore is a folder of BIND-format DNSSEC keys, one or more per zone.
// A zone without a key there gets a new one when it is first asked for.
// Methods are safe for concurrent use.
type KeyStore struct {
	dir string
	alg uint8
	mu  sync.Mutex
}

// OpenKeyStore opens (and creates, mode 700) the key folder dir; alg is
// the algorithm of the keys it creates.
func OpenKeyStore(dir string, alg uint8) (*KeyStore, error) {
	if !signingAlgorithm(alg) {
		return nil, fmt.Errorf("zones: DNSSEC algorithm %d is not one islet signs with", alg)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("zones: DNSSEC keys: %w", err)
	}
	return &KeyStore{dir: dir, alg: alg}, nil
}

// Keys returns the keys of the zone origin, creating one (a combined
// key, flags 257, published and active from now) when the folder holds
// none.
func (ks *KeyStore) Keys(origin string, now time.Time) ([]*SigningKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	keys, err := ReadZoneKeys(ks.dir, origin)
	if err != nil || len(keys) > 0 {
		return keys, err
	}
	k, err := ks.create(origin, dns.ZONE|dns.SEP, now)
	if err != nil {
		return nil, err
	}
	return []*SigningKey{k}, nil
}

// create makes a new key for origin with flags, published and active
// from now, and writes its two files.
func (ks *KeyStore) create(origin string, flags uint16, now time.Time) (*SigningKey, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	if strings.ContainsAny(origin, "/\\") {
		return nil, fmt.Errorf("zones: DNSSEC key for %s: the name cannot be a file name", origin)
	}
	pub := &dns.DNSKEY{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600}, Flags: flags, Protocol: 3, Algorithm: ks.alg}
	bits := map[uint8]int{dns.ECDSAP256SHA256: 256, dns.ECDSAP384SHA384: 384, dns.ED25519: 256, dns.RSASHA256: 2048, dns.RSASHA512: 2048}[ks.alg]
	priv, err := pub.Generate(bits)
	if err != nil {
		return nil, fmt.Errorf("zones: new DNSSEC key for %s: %w", origin, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("zones: new DNSSEC key for %s: %T cannot sign", origin, priv)
	}
	now = now.UTC().Truncate(time.Second)
	k := &SigningKey{DNSKEY: pub, signer: signer, Created: now, Publish: now, Activate: now}
	k.File = filepath.Join(ks.dir, keyFileBase(origin, ks.alg, pub.KeyTag())+".key")
	if err := k.write(priv); err != nil {
		return nil, err
	}
	return k, nil
}

// keyFileBase is BIND's name for a key's files, without the extension.
func keyFileBase(origin string, alg uint8, tag uint16) string {
	return fmt.Sprintf("K%s+%03d+%05d", origin, alg, tag)
}

// write writes the key's .key file (the DNSKEY record, readable by all)
// and its .private file (mode 600), each through a temporary file so
// that a crash leaves either the old file or the new.
func (k *SigningKey) write(priv crypto.PrivateKey) error {
	kind := "zone-signing"
	if k.SEP() {
		kind = "key-signing"
	}
	var pub bytes.Buffer
	fmt.Fprintf(&pub, "; This is a %s key, keyid %d, for %s\n", kind, k.Tag(), k.DNSKEY.Hdr.Name)
	k.writeTiming(&pub, "; ")
	rr := *k.DNSKEY
	fmt.Fprintf(&pub, "%s IN DNSKEY %d %d %d %s\n", rr.Hdr.Name, rr.Flags, rr.Protocol, rr.Algorithm, rr.PublicKey)
	var sec bytes.Buffer
	sec.WriteString(k.DNSKEY.PrivateKeyString(priv))
	k.writeTiming(&sec, "")
	base := strings.TrimSuffix(k.File, ".key")
	if err := writeFileAtomic(base+".private", sec.Bytes(), 0o600); err != nil {
		return fmt.Errorf("zones: DNSSEC key: %w", err)
	}
	if err := writeFileAtomic(k.File, pub.Bytes(), 0o644); err != nil {
		return fmt.Errorf("zones: DNSSEC key: %w", err)
	}
	return nil
}

// timingFields are the key timing metadata of BIND's key files.
var timingFields = []string{"Created", "Publish", "Activate", "Inactive", "Delete", "SyncPublish", "SyncDelete"}

func (k *SigningKey) timing() []*time.Time {
	return []*time.Time{&k.Created, &k.Publish, &k.Activate, &k.Inactive, &k.Delete, &k.SyncPublish, &k.SyncDelete}
}

func (k *SigningKey) writeTiming(b *bytes.Buffer, prefix string) {
	for i, t := range k.timing() {
		if !t.IsZero() {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, timingFields[i], t.UTC().Format("20060102150405"))
		}
	}
}

// writeFileAtomic writes data to a temporary file beside file, then
// renames it into place.
func writeFileAtomic(file string, data []byte, mode fs.FileMode) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ReadZoneKeys reads every key of origin in dir (none: an empty list),
// sorted by key tag.
func ReadZoneKeys(dir, origin string) ([]*SigningKey, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	matches, err := filepath.Glob(filepath.Join(dir, "K"+globEscape(origin)+"+*.key"))
	if err != nil {
		return nil, fmt.Errorf("zones: DNSSEC keys of %s: %w", origin, err)
	}
	var keys []*SigningKey
	for _, f := range matches {
		k, err := ReadKey(f)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(k.DNSKEY.Hdr.Name, origin) {
			return nil, fmt.Errorf("%s: the key is for %s, not %s", f, k.DNSKEY.Hdr.Name, origin)
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b *SigningKey) int { return int(a.Tag()) - int(b.Tag()) })
	return keys, nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(s)
}

// KeyZones lists the zones that have keys in dir.
func KeyZones(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "K*+*.key"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range matches {
		k, err := ReadKey(f)
		if err != nil {
			return nil, err
		}
		if name := strings.ToLower(k.DNSKEY.Hdr.Name); !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ReadKey reads a key from its .key file and the .private file beside
// it. It refuses a private key that others may read, an algorithm islet
// does not sign with, and a private key that is not the DNSKEY's.
func ReadKey(keyFile string) (*SigningKey, error) {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("zones: DNSSEC key: %w", err)
	}
	k := &SigningKey{File: keyFile}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == ';' {
			continue
		}
		rr, err := dns.NewRR(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", keyFile, line, err)
		}
		pub, ok := rr.(*dns.DNSKEY)
		if !ok || k.DNSKEY != nil {
			return nil, fmt.Errorf("%s:%d: a key file holds one DNSKEY record, not %s", keyFile, line, rrText(rr))
		}
		k.DNSKEY = pub
	}
	if k.DNSKEY == nil {
		return nil, fmt.Errorf("%s: no DNSKEY record", keyFile)
	}
	if !signingAlgorithm(k.DNSKEY.Algorithm) {
		return nil, fmt.Errorf("%s: algorithm %d (%s) is not one islet signs with (8, 10, 13, 14, 15)", keyFile, k.DNSKEY.Algorithm, dns.AlgorithmToString[k.DNSKEY.Algorithm])
	}
	privFile := strings.TrimSuffix(keyFile, ".key") + ".private"
	st, err := os.Stat(privFile)
	if err != nil {
		return nil, fmt.Errorf("zones: DNSSEC key %s: %w", keyFile, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: holds a private key but is readable by others (mode %v): chmod 600 it", privFile, st.Mode().Perm())
	}
	sec, err := os.ReadFile(privFile)
	if err != nil {
		return nil, fmt.Errorf("zones: DNSSEC key: %w", err)
	}
	if err := k.readPrivate(privFile, sec); err != nil {
		return nil, err
	}
	return k, nil
}

// readPrivate parses a .private file's key and timing and checks that
// the key is the DNSKEY's.
func (k *SigningKey) readPrivate(file string, data []byte) error {
	for line, text := range strings.Split(string(data), "\n") {
		field, value, ok := strings.Cut(text, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch field = strings.TrimSpace(field); field {
		case "Algorithm":
			num, _, _ := strings.Cut(value, " ")
			if a, err := strconv.Atoi(num); err != nil || a != int(k.DNSKEY.Algorithm) {
				return fmt.Errorf("%s:%d: algorithm %s, but the DNSKEY of %s is algorithm %d", file, line+1, value, k.File, k.DNSKEY.Algorithm)
			}
		}
		if i := slices.Index(timingFields, field); i >= 0 {
			t, err := time.Parse("20060102150405", value)
			if err != nil {
				return fmt.Errorf("%s:%d: %s: want YYYYMMDDHHMMSS, not %q", file, line+1, field, value)
			}
			*k.timing()[i] = t
		}
	}
	priv, err := k.DNSKEY.ReadPrivateKey(bytes.NewReader(data), file)
	if err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok || !wholeKey(priv) {
		return fmt.Errorf("%s: no whole private key of algorithm %d in it", file, k.DNSKEY.Algorithm)
	}
	k.signer = signer
	// The private key must be the DNSKEY's: a signature made with it
	// must verify with the DNSKEY.
	probe := []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: k.DNSKEY.Hdr.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{"probe"}}}
	sig := &dns.RRSIG{Algorithm: k.DNSKEY.Algorithm, KeyTag: k.Tag(), SignerName: k.DNSKEY.Hdr.Name, Inception: 0, Expiration: 1<<32 - 1}
	err = sig.Sign(k.signer, probe)
	if err == nil {
		err = sig.Verify(k.DNSKEY, probe)
	}
	if err != nil {
		return fmt.Errorf("%s: the private key does not match the DNSKEY in %s (%v)", file, k.File, err)
	}
	return nil
}

// wholeKey reports whether a private key read from a file has the parts
// signing needs (a file may lack them, and the reader does not check).
func wholeKey(priv crypto.PrivateKey) bool {
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		return len(p) == ed25519.PrivateKeySize
	case *ecdsa.PrivateKey:
		return p.D != nil && p.D.Sign() > 0
	case *rsa.PrivateKey:
		return p.D != nil && len(p.Primes) >= 2 && p.Validate() == nil
	}
	return false
}

// DS returns the DS record (SHA-256) the parent zone publishes for the
// key.
func (k *SigningKey) DS() *dns.DS { return k.DNSKEY.ToDS(dns.SHA256) }
