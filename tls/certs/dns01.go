package certs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
)

// DNSPublisher publishes the TXT records of ACME DNS-01 challenges.
// islet's own authoritative DNS server is one, which is why wildcard
// certificates need no DNS provider's API here.
type DNSPublisher interface {
	PublishTXT(name, value string) error
	UnpublishTXT(name, value string)
}

// propagationWaiter is a DNSPublisher whose records reach other servers
// (secondaries) some time after PublishTXT: the CA is told to validate
// only once WaitPublished returns.
type propagationWaiter interface {
	WaitPublished(ctx context.Context, name string) error
}

// maxPropagation bounds the wait for the secondaries; past it the
// challenge is not accepted (a failed validation would count against the
// CA's limits) and the order fails, to be tried again later.
const maxPropagation = 2 * time.Minute

func isWildcard(name string) bool { return strings.HasPrefix(name, "*.") }

func wildcardCacheKey(name string) string { return "dns01+" + strings.TrimPrefix(name, "*.") }

// solveDNS01 publishes the TXT record of one authorization's dns-01
// challenge, has the CA check it, and removes it.
func (c *Manager) solveDNS01(ctx context.Context, client *acme.Client, z *acme.Authorization, chal *acme.Challenge) error {
	value, err := client.DNS01ChallengeRecord(chal.Token)
	if err != nil {
		return err
	}
	record := "_acme-challenge." + z.Identifier.Value + "."
	if err := c.cfg.DNS.PublishTXT(record, value); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	defer c.cfg.DNS.UnpublishTXT(record, value)
	if w, ok := c.cfg.DNS.(propagationWaiter); ok {
		wctx, cancel := context.WithTimeout(ctx, maxPropagation)
		err := w.WaitPublished(wctx, record)
		cancel()
		if err != nil {
			return fmt.Errorf("certs: dns-01 for %s: not accepted, the record has not reached every server: %w", z.Identifier.Value, err)
		}
	}
	if _, err := client.Accept(ctx, chal); err != nil {
		return fmt.Errorf("certs: accept dns-01 for %s: %w", z.Identifier.Value, err)
	}
	if _, err := client.WaitAuthorization(ctx, z.URI); err != nil {
		return fmt.Errorf("certs: dns-01 for %s: %w", z.Identifier.Value, err)
	}
	return nil
}
