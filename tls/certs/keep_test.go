package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	ctls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"
)

// fakeClock is the certificate loop's time, stepped by the test: each
// wait the loop asks for is handed to the test, which moves the clock
// on by it and lets the loop go on.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan fakeWait
}

type fakeWait struct {
	d    time.Duration
	fire chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), waits: make(chan fakeWait, 64)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.waits <- fakeWait{d, ch}
	return ch
}

// await takes the loop's next wait and checks it; the loop is then
// blocked in it, its state settled for the test to look at.
func (f *fakeClock) await(t *testing.T, want time.Duration) fakeWait {
	t.Helper()
	select {
	case w := <-f.waits:
		if w.d != want {
			t.Fatalf("the loop waits %v, want %v", w.d, want)
		}
		return w
	case <-time.After(5 * time.Second):
		t.Fatalf("the loop did not wait (want %v)", want)
		return fakeWait{}
	}
}

// fire lets the wait's time pass.
func (f *fakeClock) fire(w fakeWait) {
	f.mu.Lock()
	f.now = f.now.Add(w.d)
	now := f.now
	f.mu.Unlock()
	w.fire <- now
}

// next is await then fire.
func (f *fakeClock) next(t *testing.T, want time.Duration) {
	t.Helper()
	f.fire(f.await(t, want))
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// testCert is a self-signed certificate for name valid until notAfter.
func testCert(t *testing.T, name string, notAfter time.Time) *ctls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(notAfter.Unix()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := parsePEMPair(append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...))
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// scripted is an obtain function answering from a list, one per call.
type scripted struct {
	mu    sync.Mutex
	steps []func() (*ctls.Certificate, error)
	calls int
}

func (s *scripted) obtain(context.Context) (*ctls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.steps) == 0 {
		return nil, errors.New("script ran out")
	}
	step := s.steps[0]
	s.steps = s.steps[1:]
	return step()
}

func newTestManager(t *testing.T, clk clock) *Manager {
	t.Helper()
	m, err := New(Config{Names: []string{"keep.example"}})
	if err != nil {
		t.Fatal(err)
	}
	m.clock = clk
	return m
}

// TestKeepBacksOffAndRenews: while the CA fails, the loop retries after
// 5 s, doubling to an hour and no more; a certificate is served at once
// and asked for again twice a day, or sooner when it falls due for
// renewal (30 days before it expires); the next failure starts from 5 s
// again.
func TestKeepBacksOffAndRenews(t *testing.T) {
	clk := newFakeClock()
	m := newTestManager(t, clk)
	fail := func() (*ctls.Certificate, error) { return nil, errors.New("the CA is unreachable") }
	long := testCert(t, "keep.example", clk.Now().Add(90*24*time.Hour))
	var due *ctls.Certificate // obtained with 30 days and 3 hours to run
	var steps []func() (*ctls.Certificate, error)
	for range 13 {
		steps = append(steps, fail)
	}
	steps = append(steps,
		func() (*ctls.Certificate, error) { return long, nil },
		func() (*ctls.Certificate, error) {
			due = testCert(t, "keep.example", clk.Now().Add(renewBefore+3*time.Hour))
			return due, nil
		},
		fail,
	)
	s := &scripted{steps: steps}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.keep(ctx, "keep.example", s.obtain); close(done) }()
	defer func() { cancel(); <-done }()

	for _, want := range []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600} {
		w := clk.await(t, want*time.Second)
		if m.served(t) != nil {
			t.Fatal("a certificate was served before one was obtained")
		}
		clk.fire(w)
	}
	w := clk.await(t, 12*time.Hour) // the 90-day certificate: asked again twice a day
	if m.served(t) != long {
		t.Fatal("the obtained certificate is not served")
	}
	clk.fire(w)
	w = clk.await(t, 3*time.Hour) // due for renewal in 3 hours: asked then
	if m.served(t) != due {
		t.Fatal("the renewed certificate is not served")
	}
	clk.fire(w)
	clk.await(t, firstBackoff) // a failure after a success starts over
	if m.served(t) != due {
		t.Fatal("a failed renewal dropped the certificate still valid")
	}
}

// TestKeepWaitsAtLeastASecond: a certificate already due for renewal is
// asked for again after a second, not in a tight loop.
func TestKeepWaitsAtLeastASecond(t *testing.T) {
	clk := newFakeClock()
	m := newTestManager(t, clk)
	expiring := testCert(t, "keep.example", clk.Now().Add(24*time.Hour))
	s := &scripted{steps: []func() (*ctls.Certificate, error){
		func() (*ctls.Certificate, error) { return expiring, nil },
		func() (*ctls.Certificate, error) { return expiring, nil },
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.keep(ctx, "keep.example", s.obtain); close(done) }()
	defer func() { cancel(); <-done }()
	clk.next(t, time.Second)
	clk.next(t, time.Second)
}

// served is what a handshake for keep.example gets, or nil for the
// self-signed fallback.
func (m *Manager) served(t *testing.T) *ctls.Certificate {
	t.Helper()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.got["keep.example"]
}

// TestWildcardReordersWhenDue: a wildcard certificate left in the cache
// by an earlier order is used while it has more than 30 days to run;
// after that a new DNS-01 order is made, and its certificate replaces
// the cached one.
func TestWildcardReordersWhenDue(t *testing.T) {
	clk := newFakeClock()
	m := newTestManager(t, clk)
	m.cache = &memCache{m: map[string][]byte{}}
	name := "*.wild.example"
	cached := testCert(t, name, clk.Now().Add(60*24*time.Hour))
	if err := m.cache.Put(context.Background(), wildcardCacheKey(name), pemOf(t, cached)); err != nil {
		t.Fatal(err)
	}
	var orders []string
	fresh := testCert(t, name, clk.Now().Add(120*24*time.Hour))
	m.order = func(_ context.Context, n string) (*ctls.Certificate, error) {
		orders = append(orders, n)
		return fresh, nil
	}
	get := m.obtainer(name)
	cert, err := get(context.Background())
	if err != nil || len(orders) != 0 || !cert.Leaf.Equal(cached.Leaf) {
		t.Fatalf("with 60 days to run: %d orders, err %v; want the cached certificate", len(orders), err)
	}
	clk.advance(29 * 24 * time.Hour) // 31 days to run
	if cert, err = get(context.Background()); err != nil || len(orders) != 0 || !cert.Leaf.Equal(cached.Leaf) {
		t.Fatalf("with 31 days to run: %d orders, err %v; want the cached certificate", len(orders), err)
	}
	clk.advance(2 * 24 * time.Hour) // 29 days to run: due
	if cert, err = get(context.Background()); err != nil || len(orders) != 1 || orders[0] != name || cert != fresh {
		t.Fatalf("with 29 days to run: orders %v, err %v; want one new order", orders, err)
	}
	m.cache.Delete(context.Background(), wildcardCacheKey(name))
	if _, err = get(context.Background()); err != nil || len(orders) != 2 {
		t.Fatalf("with nothing cached: orders %v, err %v; want a new order", orders, err)
	}
}

func pemOf(t *testing.T, c *ctls.Certificate) []byte {
	t.Helper()
	kder, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	for _, d := range c.Certificate {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return out
}
