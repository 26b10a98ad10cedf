package certs

import (
	"fmt"
	"net"
	"net/http"

	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/acme"
)

// TestOrderGuard: three orders of a name in seven days, the fourth only
// once the first is seven days old; a rate limit holds the name until
// it ends; the record lives in the cache, so a new guard on it (a
// restart) knows it; other names are not held.
func TestOrderGuard(t *testing.T) {
	ctx := context.Background()
	cache := &memCache{m: map[string][]byte{}}
	g := &orderGuard{cache: cache}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := g.admit(ctx, "a.example", t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatalf("order %d: %v", i+1, err)
		}
	}
	g = &orderGuard{cache: cache} // a restart
	var we *waitError
	if err := g.admit(ctx, "a.example", t0.Add(3*time.Hour)); !errors.As(err, &we) || !we.until.Equal(t0.Add(guardWindow)) {
		t.Fatalf("a fourth order within 7 days: %v, want held until %v", err, t0.Add(guardWindow))
	}
	if err := g.admit(ctx, "b.example", t0.Add(3*time.Hour)); err != nil {
		t.Errorf("another name held: %v", err)
	}
	if err := g.admit(ctx, "a.example", t0.Add(guardWindow-time.Second)); err == nil {
		t.Error("admitted a second before the first order is 7 days old")
	}
	if err := g.admit(ctx, "a.example", t0.Add(guardWindow)); err != nil {
		t.Errorf("7 days after the first order: %v", err)
	}
	g.hold(ctx, "b.example", t0.Add(5*time.Hour))
	if err := (&orderGuard{cache: cache}).admit(ctx, "b.example", t0.Add(4*time.Hour)); !errors.As(err, &we) || !we.until.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("during a rate limit: %v", err)
	}
	if err := g.admit(ctx, "b.example", t0.Add(5*time.Hour)); err != nil {
		t.Errorf("after the rate limit: %v", err)
	}
	// an order that never reached the CA is taken back
	// the first three orders are past; the second and third of this
	// window come at at and a second later
	at := t0.Add(guardWindow + 3*time.Hour)
	for i := range 2 {
		if err := g.admit(ctx, "a.example", at.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("order %d after 7 days: %v", i+2, err)
		}
	}
	g.unadmit(ctx, "a.example", at)
	if err := g.admit(ctx, "a.example", at.Add(time.Minute)); err != nil {
		t.Errorf("after an order taken back: %v", err)
	}
	cache.Put(ctx, guardKey("c.example"), []byte("{not json"))
	if err := g.admit(ctx, "c.example", t0); err != nil {
		t.Errorf("a damaged record: %v", err)
	}
}

// TestNotSent: a request that found no connection to the CA is told
// from one the CA answered or may have seen.
func TestNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := http.Get("http://" + addr + "/")
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("order x: %w", refused), true},
		{&net.DNSError{Err: "no such host", Name: "acme.invalid"}, true},
		{fmt.Errorf("order x: %w", &acme.Error{StatusCode: 403, ProblemType: "urn:ietf:params:acme:error:rejectedIdentifier"}), false},
		{fmt.Errorf("order x: %w", context.DeadlineExceeded), false},
	} {
		if got := notSent(c.err); got != c.want {
			t.Errorf("notSent(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
