package appliance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"islet.dev/islet/tls/web"
	"islet.dev/islet/zones"
)

// ConfigFile is the name of the appliance's compile-time configuration.
const ConfigFile = "islet.yml"

// Config is what an appliance serves, read from islet.yml: the parts
// baked in at build time. Boot-time settings (addresses, log level) are
// not here; they are flags of "islet serve".
type Config struct {
	Dir   string `yaml:"-"` // the appliance folder, for relative paths
	Zones string `yaml:"zones"`
	// Site is the site's source tree (rendered at build time).
	Site  string       `yaml:"site"`
	Hosts []HostConfig `yaml:"hosts"`
	ACME  struct {
		Email string `yaml:"email"`
	} `yaml:"acme"`
	DNS struct {
		Minimal bool `yaml:"minimal"`
		// Notify and AllowTransfer are NOTIFY targets
		// (ADDR:PORT[@KEYNAME]) and transfer ACLs (PREFIX[@KEYNAME]);
		// the keys' secrets are not here but in a keys file.
		Notify        []string `yaml:"notify"`
		AllowTransfer []string `yaml:"allow-transfer"`
		// Secondaries maps zones followed to their primaries
		// (ADDR:PORT[@KEYNAME]).
		Secondaries map[string]string `yaml:"secondaries"`
		// Catalog names a catalog zone listing the zones (RFC 9432).
		Catalog string `yaml:"catalog"`
	} `yaml:"dns"`
	// DNSSEC says which zones islet signs, and how.
	DNSSEC DNSSECConfig `yaml:"dnssec"`
}

// Secondaries parses dns.secondaries, in zone order.
func (c *Config) Secondaries() ([]zones.Secondary, error) {
	names := make([]string, 0, len(c.DNS.Secondaries))
	for z := range c.DNS.Secondaries {
		names = append(names, z)
	}
	sort.Strings(names)
	var out []zones.Secondary
	for _, z := range names {
		s, err := zones.ParseSecondary(z + "=" + c.DNS.Secondaries[z])
		if err != nil {
			return nil, fmt.Errorf("%s: dns: secondaries: %w", filepath.Join(c.Dir, ConfigFile), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Transfers parses dns.allow-transfer and dns.notify.
func (c *Config) Transfers() ([]zones.TransferACL, []zones.NotifyTarget, error) {
	file := filepath.Join(c.Dir, ConfigFile)
	var acl []zones.TransferACL
	for _, v := range c.DNS.AllowTransfer {
		a, err := zones.ParseTransferACL(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: dns: allow-transfer: %w", file, err)
		}
		acl = append(acl, a)
	}
	var notify []zones.NotifyTarget
	for _, v := range c.DNS.Notify {
		n, err := zones.ParseNotifyTarget(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: dns: notify: %w", file, err)
		}
		notify = append(notify, n)
	}
	return acl, notify, nil
}

// HostConfig is one entry of hosts: names that serve the site, or names
// that redirect.
type HostConfig struct {
	Names     []string `yaml:"names"`
	Site      bool     `yaml:"site"`
	Canonical string   `yaml:"canonical"`
	Redirect  string   `yaml:"redirect"`
	Status    int      `yaml:"status"`
	HSTS      string   `yaml:"hsts"`
	// Headers are response headers for every request to these names.
	Headers map[string]string `yaml:"headers"`
}

// TLSHosts converts the hosts for the HTTPS front-end.
func (c *Config) TLSHosts() []web.Host {
	var out []web.Host
	for _, h := range c.Hosts {
		out = append(out, web.Host{Names: h.Names, Site: h.Site, Canonical: h.Canonical, Redirect: h.Redirect, Status: h.Status, HSTS: h.HSTS, Headers: h.Headers})
	}
	return out
}

// SiteHostNames are the names of the hosts that serve the site (none
// when no hosts are configured: the site is then served on every
// zone's apex).
func (c *Config) SiteHostNames() []string {
	var out []string
	for _, h := range c.Hosts {
		if h.Site {
			out = append(out, h.Names...)
		}
	}
	return out
}

// SiteDir is the site source folder, or "" when there is none.
func (c *Config) SiteDir() string {
	if c.Site == "" {
		return ""
	}
	return c.path(c.Site)
}

// ZonesDir is the absolute or Dir-relative zones folder.
func (c *Config) ZonesDir() string { return c.path(c.Zones) }

func (c *Config) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// LoadConfig reads DIR/islet.yml; a folder without one gets the defaults
// (zones in DIR/zones). Unknown keys are errors with their line.
func LoadConfig(dir string) (*Config, error) {
	c := &Config{Dir: dir, Zones: "zones"}
	file := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("appliance: read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s", yamlPosition(file, err))
	}
	if c.Zones == "" {
		return nil, fmt.Errorf("%s: zones: must name a folder", file)
	}
	return c, nil
}

var yamlLineRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
})

// yamlPosition turns yaml's "line N: msg" errors into "file:N: msg".
func yamlPosition(file string, err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	if m := yamlLineRE().FindStringSubmatch(err.Error()); m != nil {
		return fmt.Sprintf("%s:%s: %s", file, m[1], m[2])
	}
	return fmt.Sprintf("%s: %v", file, err)
}

// ZonesDirOf returns the zones folder of dir: what islet.yml names when
// dir is an appliance folder, dir/zones when that exists, else dir.
func ZonesDirOf(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
		if c, err := LoadConfig(dir); err == nil {
			return c.ZonesDir()
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "zones")); err == nil && st.IsDir() {
		return filepath.Join(dir, "zones")
	}
	return dir
}

// Check validates the HTTPS side of the configuration: hosts, redirects,
// canonical names. It returns the problems as "file: message" errors.
func (c *Config) Check() []error {
	var errs []error
	file := filepath.Join(c.Dir, ConfigFile)
	var site http.Handler
	if c.Site != "" {
		if st, err := os.Stat(c.SiteDir()); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("%s: site: %s is not a folder", file, c.SiteDir()))
		}
		site = http.NotFoundHandler() // stands in for the tree while checking
	}
	if _, err := web.NewRouter(site, c.TLSHosts(), ""); err != nil {
		errs = append(errs, fmt.Errorf("%s: hosts: %v", file, strings.TrimPrefix(err.Error(), "web: ")))
	}
	if _, _, err := c.Transfers(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Secondaries(); err != nil {
		errs = append(errs, err)
	}
	if k := c.DNSSEC.Keys; k != "" {
		clean := filepath.ToSlash(filepath.Clean(k))
		if filepath.IsAbs(k) || clean == "." || strings.HasPrefix(clean, "../") || clean == ".." || strings.HasPrefix(clean, ".") || strings.HasPrefix(clean, "_") || strings.HasPrefix(clean, "zones") || strings.HasPrefix(clean, "site") {
			errs = append(errs, fmt.Errorf("%s: dnssec: keys: %q must be a folder of its own inside the appliance folder (not zones/, site/, _build/ or a dot folder)", file, k))
		}
	}
	return errs
}
