package guest

import (
	"log/slog"
	"net/netip"
	"testing"
)

// TestGuestNetworkOptions reads the network from the kernel command
// line: a static address, IPv4 off (none), and DHCP when none is given.
func TestGuestNetworkOptions(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		ipv4    netip.Prefix
		noIPv4  bool
		ipv6    netip.Prefix
	}{
		{"console=ttyS0", netip.Prefix{}, false, netip.Prefix{}},
		{"islet.ipv4=10.0.2.15/24 islet.ipv4-gateway=10.0.2.2", netip.MustParsePrefix("10.0.2.15/24"), false, netip.Prefix{}},
		{"islet.ipv4=none islet.ipv6=2001:db8::5/64", netip.Prefix{}, true, netip.MustParsePrefix("2001:db8::5/64")},
	} {
		opt, err := guestOptions(t.TempDir(), bootParams(tc.cmdline), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Errorf("%s: %v", tc.cmdline, err)
			continue
		}
		if n := opt.Net; n.IPv4 != tc.ipv4 || n.NoIPv4 != tc.noIPv4 || n.IPv6 != tc.ipv6 || n.Net != "packet:eth0" {
			t.Errorf("%s: %+v", tc.cmdline, n)
		}
	}
	if _, err := guestOptions(t.TempDir(), bootParams("islet.ipv4=nonsense"), slog.New(slog.DiscardHandler)); err == nil {
		t.Errorf("islet.ipv4=nonsense taken")
	}
}

// TestGuestRRL: the image limits the rate of UDP responses unless the
// kernel command line says otherwise.
func TestGuestRRL(t *testing.T) {
	for cmdline, want := range map[string]int{"": 200, "islet.rrl=50": 50, "islet.rrl=0": 0} {
		opt, err := guestOptions(t.TempDir(), bootParams(cmdline), slog.New(slog.DiscardHandler))
		if err != nil || opt.DNS.RRL.Rate != want {
			t.Errorf("%q: rate %d, %v; want %d", cmdline, opt.DNS.RRL.Rate, err, want)
		}
	}
	if _, err := guestOptions(t.TempDir(), bootParams("islet.rrl=-1"), slog.New(slog.DiscardHandler)); err == nil {
		t.Error("islet.rrl=-1 taken")
	}
}
