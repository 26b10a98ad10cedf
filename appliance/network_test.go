package appliance

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
)

// TestNoIPv4Alone: with IPv4 off, an IPv4 address or gateway is an
// error, found before any device is opened.
func TestNoIPv4Alone(t *testing.T) {
	for _, o := range []NetOptions{
		{Net: "packet:nosuchdev0", NoIPv4: true, IPv4: netip.MustParsePrefix("10.0.0.2/24")},
		{Net: "packet:nosuchdev0", NoIPv4: true, IPv4Gateway: netip.MustParseAddr("10.0.0.1")},
	} {
		_, err := openNetwork(context.Background(), o, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "IPv4 is off") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
