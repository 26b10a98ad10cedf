package guest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"islet.dev/islet/appliance"
	"islet.dev/islet/zones"
)

// Root is where the image keeps the appliance folder (islet.yml,
// zones/, site/).
const Root = "/appliance"

// bootParams picks islet.NAME=VALUE words from a kernel command line.
func bootParams(cmdline string) map[string]string {
	out := map[string]string{}
	for _, w := range strings.Fields(cmdline) {
		if k, v, ok := strings.Cut(strings.TrimPrefix(w, "islet."), "="); ok && strings.HasPrefix(w, "islet.") {
			out[k] = v
		}
	}
	return out
}

// guestOptions turns the image's appliance folder (root) and the boot
// parameters into Options.
func guestOptions(root string, p map[string]string, log *slog.Logger) (appliance.Options, error) {
	cfg, err := appliance.LoadConfig(root)
	if err != nil {
		return appliance.Options{}, err
	}
	opt := appliance.Options{
		ZonesDir: cfg.ZonesDir(),
		DNSAddrs: []string{":53"},
		Logger:   log,
		Net:      appliance.NetOptions{Net: "packet:eth0"},
	}
	opt.DNS.Minimal = cfg.DNS.Minimal
	opt.DNS.RRL.Rate = zones.DefaultRRLRate // on the internet: never a reflector
	if v, ok := p["rrl"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return opt, fmt.Errorf("islet.rrl: %q is not a rate (0: off)", v)
		}
		opt.DNS.RRL.Rate = n
	}
	if v, ok := p["metrics"]; ok {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return opt, fmt.Errorf("islet.metrics: %q is not an address (:9153): %w", v, err)
		}
		opt.MetricsAddr = v
	}
	if opt.DNS.AllowTransfer, opt.DNS.Notify, err = cfg.Transfers(); err != nil {
		return opt, err
	}
	if opt.Secondaries, err = cfg.Secondaries(); err != nil {
		return opt, err
	}
	opt.Catalog = cfg.DNS.Catalog
	if v, ok := p["net"]; ok {
		opt.Net.Net = v
	}
	opt.Net.NoIPv4 = p["ipv4"] == "none"
	for key, dst := range map[string]*netip.Prefix{"ipv4": &opt.Net.IPv4, "ipv6": &opt.Net.IPv6} {
		if v, ok := p[key]; ok && !(key == "ipv4" && opt.Net.NoIPv4) {
			if *dst, err = netip.ParsePrefix(v); err != nil {
				return opt, fmt.Errorf("islet.%s: %w", key, err)
			}
		}
	}
	for key, dst := range map[string]*netip.Addr{"ipv4-gateway": &opt.Net.IPv4Gateway, "ipv6-gateway": &opt.Net.IPv6Gateway, "resolver": &opt.Net.Resolver} {
		if v, ok := p[key]; ok {
			if *dst, err = netip.ParseAddr(v); err != nil {
				return opt, fmt.Errorf("islet.%s: %w", key, err)
			}
		}
	}
	if _, err := os.Stat(cfg.ZonesDir()); err != nil {
		opt.ZonesDir = ""
	}
	opt.HTTPS = appliance.HTTPSOptions{Hosts: cfg.TLSHosts(), HTTPSAddr: ":443", HTTPAddr: ":80", ACMEEmail: cfg.ACME.Email, ACMEDirectory: "https://acme-v02.api.letsencrypt.org/directory"}
	if v, ok := p["acme-directory"]; ok {
		opt.HTTPS.ACMEDirectory = v
	}
	if cfg.SiteDir() != "" {
		opt.HTTPS.SiteDir = cfg.SiteDir() // rendered by islet build
	}
	return opt, nil
}

// dnssecKeysDir, on the state disk, keeps the DNSSEC keys.
const dnssecKeysDir = "dnssec"

// guestSigner is the signer islet.yml's dnssec asks for (nil when it
// signs nothing): with the keys baked into the image when dnssec: keys:
// names a folder of them, else with those kept on the state disk
// mounted at stateDir ("": none), made there at the first boot.
func guestSigner(root, stateDir string) (*zones.Signer, error) {
	cfg, err := appliance.LoadConfig(root)
	if err != nil || !cfg.DNSSEC.Enabled() {
		return nil, err
	}
	dir := cfg.KeysDir()
	if dir == "" {
		if stateDir == "" {
			return nil, errors.New("islet.yml signs zones, but there is no state disk to keep the keys on, and no keys baked into the image (dnssec: keys:)")
		}
		dir = filepath.Join(stateDir, dnssecKeysDir)
	}
	return cfg.DNSSEC.NewSigner(dir)
}
