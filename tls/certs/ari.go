package certs

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ACME Renewal Information (RFC 9773): where the CA offers it, it says
// when each certificate should be renewed (a window, moved earlier
// when the CA must revoke it); a certificate is renewed at a random
// time within the window, and the CA asked again as its Retry-After
// says. Without it, a certificate is renewed 30 days before it expires,
// or with a third of its life left if that is shorter.

// renewBefore is how long before expiry certificates are renewed
// without renewal information from the CA.
const renewBefore = 30 * 24 * time.Hour

// ARI polling bounds: the CA's Retry-After, kept between these.
const (
	ariMinPoll     = time.Minute
	ariDefaultPoll = 6 * time.Hour
	ariMaxPoll     = 24 * time.Hour
)

type ariState struct {
	start, end time.Time // the window last given
	renewAt    time.Time // the time chosen in it
	pollAt     time.Time // when to ask again
}

// ariCertID is a certificate's identifier in renewalInfo URLs: its
// issuer's key identifier and its serial number, each base64url.
func ariCertID(leaf *x509.Certificate) (string, error) {
	if len(leaf.AuthorityKeyId) == 0 || leaf.SerialNumber == nil || leaf.SerialNumber.Sign() <= 0 {
		return "", errors.New("the certificate has no authority key identifier or serial number")
	}
	serial := leaf.SerialNumber.Bytes()
	if serial[0]&0x80 != 0 { // DER: a positive integer's leading bit is 0
		serial = append([]byte{0}, serial...)
	}
	return base64.RawURLEncoding.EncodeToString(leaf.AuthorityKeyId) + "." + base64.RawURLEncoding.EncodeToString(serial), nil
}

// renewalInfoURL is the directory's renewalInfo, "" when the CA offers
// none; the directory is read once.
func (c *Manager) renewalInfoURL(ctx context.Context) (string, error) {
	c.ariMu.Lock()
	if c.ariDir != nil {
		defer c.ariMu.Unlock()
		return *c.ariDir, nil
	}
	c.ariMu.Unlock()
	var dir struct {
		RenewalInfo string `json:"renewalInfo"`
	}
	if _, err := c.getJSON(ctx, c.cfg.Directory, &dir); err != nil {
		return "", err
	}
	c.ariMu.Lock()
	defer c.ariMu.Unlock()
	c.ariDir = &dir.RenewalInfo
	return dir.RenewalInfo, nil
}

// getJSON GETs url into v and returns the response's Retry-After.
func (c *Manager) getJSON(ctx context.Context, url string, v any) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	client := c.httpClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	var retry time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		retry = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(resp.Header.Get("Retry-After")); err == nil {
		retry = t.Sub(c.clock.Now())
	}
	return retry, nil
}

// fallbackRenewal is when a certificate is renewed without ARI.
func fallbackRenewal(leaf *x509.Certificate) time.Time {
	before := min(renewBefore, leaf.NotAfter.Sub(leaf.NotBefore)/3)
	return leaf.NotAfter.Add(-before)
}

// renewalTime is when leaf should be renewed: as ARI last said, asked
// again when its poll time came (without a CA to ask, the fallback); and
// when to look again.
func (c *Manager) renewalTime(ctx context.Context, leaf *x509.Certificate) (renewAt, lookAgain time.Time) {
	now := c.clock.Now()
	id, idErr := ariCertID(leaf)
	c.ariMu.Lock()
	st, known := c.ari[id]
	c.ariMu.Unlock()
	if idErr != nil || c.cfg.Directory == "" {
		at := fallbackRenewal(leaf)
		return at, at
	}
	if known && now.Before(st.pollAt) {
		return st.renewAt, st.pollAt
	}
	base, err := c.renewalInfoURL(ctx)
	if err == nil && base == "" {
		at := fallbackRenewal(leaf)
		return at, at
	}
	var info struct {
		SuggestedWindow struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"suggestedWindow"`
		ExplanationURL string `json:"explanationURL"`
	}
	var retry time.Duration
	if err == nil {
		retry, err = c.getJSON(ctx, strings.TrimSuffix(base, "/")+"/"+id, &info)
	}
	w := info.SuggestedWindow
	if err == nil && !w.Start.Before(w.End) {
		err = fmt.Errorf("renewal information for %s: the window's end %v is not after its start %v", id, w.End, w.Start)
	}
	if err != nil {
		c.log.Debug("no ACME renewal information; renewing by the certificate's dates", "serial", leaf.SerialNumber, "err", err)
		if known {
			st.pollAt = now.Add(ariMinPoll * 10)
		} else {
			at := fallbackRenewal(leaf)
			st = ariState{renewAt: at, pollAt: now.Add(ariMinPoll * 10)}
		}
	} else {
		if !known || !st.start.Equal(w.Start) || !st.end.Equal(w.End) {
			// a new window: a new random time in it (RFC 9773 §4.2)
			st.start, st.end = w.Start, w.End
			st.renewAt = w.Start.Add(rand.N(w.End.Sub(w.Start)))
			if !w.End.After(now) {
				st.renewAt = now // the window is past: renew now
			}
			c.log.Info("ACME renewal information", "serial", leaf.SerialNumber, "window_start", w.Start, "window_end", w.End,
				"renew_at", st.renewAt, "explanation", info.ExplanationURL)
		}
		if retry <= 0 {
			retry = ariDefaultPoll
		}
		st.pollAt = now.Add(min(max(retry, ariMinPoll), ariMaxPoll))
	}
	c.ariMu.Lock()
	c.ari[id] = st
	c.ariMu.Unlock()
	again := st.pollAt
	if st.renewAt.Before(again) {
		again = st.renewAt
	}
	return st.renewAt, again
}

// due says whether leaf should be renewed now.
func (c *Manager) due(ctx context.Context, leaf *x509.Certificate) bool {
	at, _ := c.renewalTime(ctx, leaf)
	return !c.clock.Now().Before(at)
}
