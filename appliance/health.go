package appliance

import (
	"context"
	"crypto/sha256"
	ctls "crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"islet.dev/islet/zones"
)

// Health is what a deployment of an appliance must serve to be healthy
// (islet deploy): each zone with at least the serial built, and each
// site host's home page with the content built.
type Health struct {
	Serials map[string]uint32 // by zone origin
	Hosts   []string          // names serving the site
	ETag    string            // the home page's, "" when there is no site
}

// NewHealth is the health of an appliance built from set and site (nil:
// none) with these HTTPS hosts.
func NewHealth(set *zones.Set, site fs.FS, hosts []string) (Health, error) {
	h := Health{Serials: map[string]uint32{}, Hosts: hosts}
	if set != nil {
		for _, z := range set.Zones() {
			h.Serials[z.Origin] = z.Serial()
			if len(hosts) == 0 && site != nil {
				h.Hosts = append(h.Hosts, strings.TrimSuffix(z.Origin, ".")) // the site on every apex
			}
		}
	}
	if site != nil {
		b, err := fs.ReadFile(site, "index.html")
		if err == nil {
			sum := sha256.Sum256(b)
			h.ETag = `"` + hex.EncodeToString(sum[:12]) + `"` // as tls/web makes it
		}
	}
	return h, nil
}

// Dial opens a connection to a deployment: directly, or through an SSH
// tunnel to its host.
type Dial = func(ctx context.Context, network, address string) (net.Conn, error)

// Check asks the deployment at addr, reached through dial (nil: a
// direct connection): nil when it serves what was built.
func (h Health) Check(ctx context.Context, addr netip.Addr, dial Dial) error {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	for zone, want := range h.Serials {
		got, err := zones.SOASerial(ctx, dial, netip.AddrPortFrom(addr, 53).String(), zone)
		if err != nil {
			return err
		}
		if int32(got-want) < 0 { // a signed zone may serve a later serial
			return fmt.Errorf("%s serves serial %d of %s, not %d", addr, got, zone, want)
		}
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		// the certificate may still be the self-signed one: what is
		// checked is the content
		TLSClientConfig: &ctls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial(ctx, network, netip.AddrPortFrom(addr, 443).String())
		},
	}}
	for _, host := range h.Hosts {
		if h.ETag == "" || strings.HasPrefix(host, "*.") {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept-Encoding", "identity") // the ETag of the page itself
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("https://%s/ at %s: %w", host, addr, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") == h.ETag {
			continue
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			continue // a redirecting host
		}
		return fmt.Errorf("https://%s/ at %s: %s, ETag %s, want 200 and %s", host, addr, resp.Status, resp.Header.Get("ETag"), h.ETag)
	}
	return nil
}

// Alive asks the deployment at addr for a zone's SOA, whatever its
// serial: nil when it answers (an image started again by a rollback).
func (h Health) Alive(ctx context.Context, addr netip.Addr, dial Dial) error {
	for zone := range h.Serials {
		_, err := zones.SOASerial(ctx, dial, netip.AddrPortFrom(addr, 53).String(), zone)
		return err
	}
	return nil
}
