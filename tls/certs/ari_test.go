package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// ariLeaf is a certificate as a CA issues it: an authority key
// identifier and a serial whose first bit is set.
func ariLeaf(t *testing.T, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial := new(big.Int).SetBytes([]byte{0x87, 0x65, 0x43, 0x21})
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "ari.example"}, DNSNames: []string{"ari.example"},
		NotBefore: notBefore, NotAfter: notAfter, AuthorityKeyId: []byte{0x69, 0x88, 0x5b, 0x6b, 0x87, 0x46, 0x40, 0x41, 0xe1, 0xb3, 0x7b, 0x84, 0x7b, 0xa0, 0xae, 0x2c, 0xde, 0x01, 0xc8, 0xd4}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// TestARICertID: the identifier is the issuer key's identifier and the
// serial's DER octets, each base64url (RFC 9773 §4.1, its example).
func TestARICertID(t *testing.T) {
	leaf := ariLeaf(t, time.Now(), time.Now().Add(time.Hour))
	id, err := ariCertID(leaf)
	if want := "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"; err != nil || id != want {
		t.Errorf("cert ID %q (%v), want %q", id, err, want)
	}
}

// ariCA answers the directory and renewalInfo with window, counting
// renewalInfo requests; no renewalInfo in the directory when window is
// nil.
func ariCA(t *testing.T, window *[2]time.Time, retryAfter string, asked *atomic.Int32) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/dir":
			d := map[string]string{"newNonce": srv.URL + "/nonce"}
			if window != nil {
				d["renewalInfo"] = srv.URL + "/ari/"
			}
			json.NewEncoder(w).Encode(d)
		case strings.HasPrefix(r.URL.Path, "/ari/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"):
			asked.Add(1)
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			json.NewEncoder(w).Encode(map[string]any{"suggestedWindow": map[string]time.Time{"start": window[0], "end": window[1]}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRenewalTime: with ARI, a certificate is renewed at a time within
// the window (at once when it is past) and ARI asked again as its
// Retry-After says, bounded; without it, 30 days before expiry or with a
// third of its life left.
func TestRenewalTime(t *testing.T) {
	clk := newFakeClock()
	now := clk.Now()
	leaf := ariLeaf(t, now.Add(-10*24*time.Hour), now.Add(80*24*time.Hour))
	for _, c := range []struct {
		name        string
		window      *[2]time.Time
		retryAfter  string
		from, to    time.Time // renewAt within
		lookAgainBy time.Time
	}{
		{"window ahead", &[2]time.Time{now.Add(40 * 24 * time.Hour), now.Add(42 * 24 * time.Hour)}, "21600",
			now.Add(40 * 24 * time.Hour), now.Add(42 * 24 * time.Hour), now.Add(6 * time.Hour)},
		{"window past", &[2]time.Time{now.Add(-2 * time.Hour), now.Add(-time.Hour)}, "",
			now, now, now},
		{"retry-after too long", &[2]time.Time{now.Add(40 * 24 * time.Hour), now.Add(42 * 24 * time.Hour)}, "9999999",
			now.Add(40 * 24 * time.Hour), now.Add(42 * 24 * time.Hour), now.Add(ariMaxPoll)},
		{"no ARI", nil, "", now.Add(50 * 24 * time.Hour), now.Add(50 * 24 * time.Hour), now.Add(50 * 24 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var asked atomic.Int32
			ca := ariCA(t, c.window, c.retryAfter, &asked)
			m, err := New(Config{Names: []string{"ari.example"}, Directory: ca.URL + "/dir"})
			if err != nil {
				t.Fatal(err)
			}
			m.clock = clk
			at, again := m.renewalTime(context.Background(), leaf)
			if at.Before(c.from) || at.After(c.to) {
				t.Errorf("renew at %v, want within %v..%v", at, c.from, c.to)
			}
			if again.After(c.lookAgainBy) {
				t.Errorf("look again at %v, want by %v", again, c.lookAgainBy)
			}
			if due := m.due(context.Background(), leaf); due != !now.Before(at) {
				t.Errorf("due %v with renewal at %v", due, at)
			}
			if c.window != nil && asked.Load() != 1 {
				t.Errorf("ARI asked %d times before its poll time, want once", asked.Load())
			}
		})
	}
	// a short-lived certificate without ARI: renewed with a third left
	short := ariLeaf(t, now, now.Add(9*24*time.Hour))
	if at := fallbackRenewal(short); !at.Equal(now.Add(6 * 24 * time.Hour)) {
		t.Errorf("a 9-day certificate renewed at %v, want after 6 days", at)
	}
}

// TestKeepRetriesUnreachableSoon: while the CA cannot be reached, no
// order is made and the loop asks again after 5 s, then every 10 s, so
// that a certificate follows within seconds of the CA coming back; a
// rate limit or the order guard waits the time it says.
func TestKeepRetriesUnreachableSoon(t *testing.T) {
	clk := newFakeClock()
	m := newTestManager(t, clk)
	down := func() (*ctls.Certificate, error) { return nil, &unreachableError{errors.New("connection refused")} }
	held := func() (*ctls.Certificate, error) {
		return nil, &waitError{clk.Now().Add(3 * time.Hour), "rate limited"}
	}
	s := &scripted{steps: []func() (*ctls.Certificate, error){down, down, down, down, held, down}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.keep(ctx, "keep.example", s.obtain); close(done) }()
	defer func() { cancel(); <-done }()
	for _, want := range []time.Duration{5 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second, 3 * time.Hour} {
		clk.next(t, want)
	}
	clk.await(t, 10*time.Second)
}
