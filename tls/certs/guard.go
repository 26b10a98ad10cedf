package certs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// The order guard: a name is ordered at most guardOrders times in
// guardWindow, whatever fails and however often the appliance restarts,
// and not before a rate limit the CA gave has passed. Let's Encrypt
// counts failed validations and duplicate certificates against limits
// that lock a name out for days; the record is kept in the certificate
// cache, beside the certificates.
const (
	guardOrders = 3
	guardWindow = 7 * 24 * time.Hour
)

// orderGuard keeps, per name, when it was ordered and until when the CA
// asked it not be.
type orderGuard struct {
	mu    sync.Mutex
	cache autocert.Cache
}

type guardRecord struct {
	Orders    []time.Time `json:"orders"`
	NotBefore time.Time   `json:"not_before,omitzero"`
}

func guardKey(name string) string { return "orders+" + name }

func (g *orderGuard) load(ctx context.Context, name string) guardRecord {
	var r guardRecord
	if data, err := g.cache.Get(ctx, guardKey(name)); err == nil {
		json.Unmarshal(data, &r) // a damaged record is an empty one
	}
	return r
}

func (g *orderGuard) store(ctx context.Context, name string, r guardRecord) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return g.cache.Put(ctx, guardKey(name), data)
}

// admit records an order of name at now, or says when one may be made.
func (g *orderGuard) admit(ctx context.Context, name string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.load(ctx, name)
	if now.Before(r.NotBefore) {
		return &waitError{r.NotBefore, "the CA asked for no order before then (rate limited)"}
	}
	var recent []time.Time
	for _, t := range r.Orders {
		if now.Sub(t) < guardWindow && !t.After(now.Add(time.Minute)) {
			recent = append(recent, t)
		}
	}
	if len(recent) >= guardOrders {
		until := recent[len(recent)-guardOrders].Add(guardWindow)
		return &waitError{until, fmt.Sprintf("%s was ordered %d times in %v; the order guard allows no more, against the CA's limits", name, len(recent), guardWindow)}
	}
	r.Orders = append(recent, now)
	if err := g.store(ctx, name, r); err != nil {
		// Unrecorded, a restart loop would order without end.
		return fmt.Errorf("order guard: the order of %s cannot be recorded, so none is made: %w", name, err)
	}
	return nil
}

// unadmit takes back the order of name admit recorded at at: it never
// reached the CA.
func (g *orderGuard) unadmit(ctx context.Context, name string, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.load(ctx, name)
	for i, t := range r.Orders {
		if t.Equal(at) {
			r.Orders = append(r.Orders[:i], r.Orders[i+1:]...)
			g.store(ctx, name, r)
			return
		}
	}
}

// hold keeps name from being ordered before until.
func (g *orderGuard) hold(ctx context.Context, name string, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.load(ctx, name)
	if until.After(r.NotBefore) {
		r.NotBefore = until
		g.store(ctx, name, r)
	}
}
