package appliance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name, yml, wantZones, wantErr string
	}{
		{"no file: defaults", "", "zones", ""},
		{"zones folder", "zones: dns/\n", "dns", ""},
		{"minimal", "dns:\n  minimal: true\n", "zones", ""},
		{"unknown key", "zones: z\nzoness: y\n", "", "islet.yml:2: field zoness not found"},
		{"wrong type", "dns:\n  minimal: sure\n", "", "islet.yml:2: cannot unmarshal"},
		{"empty zones", "zones: \"\"\n", "", "zones: must name a folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.yml != "" {
				os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tc.yml), 0o644)
			}
			c, err := LoadConfig(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ZonesDir() != filepath.Join(dir, tc.wantZones) {
				t.Errorf("zones dir %s", c.ZonesDir())
			}
		})
	}
}

// TestHostsConfig: a host's redirect status and HSTS setting in
// islet.yml reach the HTTPS front-end, and bad ones are refused by the
// check with the file named.
func TestHostsConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`hosts:
  - names: [example.net]
    redirect: https://example.org
    status: 308
    hsts: on
  - names: [example.com]
    redirect: https://example.org/x
    status: 302
    hsts: off
`), 0o644)
	c, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	hosts := c.TLSHosts()
	if len(hosts) != 2 || hosts[0].Status != 308 || hosts[0].HSTS != "on" || hosts[1].Status != 302 || hosts[1].HSTS != "off" {
		t.Fatalf("hosts %+v", hosts)
	}
	if errs := c.Check(); len(errs) != 0 {
		t.Errorf("check: %v", errs)
	}
	for _, tc := range []struct{ yml, want string }{
		{"hosts:\n  - names: [a.example]\n    redirect: https://b.example\n    status: 200\n", "redirect status 200 is not 301, 302, 307 or 308"},
		{"hosts:\n  - names: [a.example]\n    redirect: https://b.example\n    hsts: maybe\n", "hsts must be on or off"},
	} {
		os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tc.yml), 0o644)
		c, err := LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		errs := c.Check()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), filepath.Join(dir, ConfigFile)+": hosts: host a.example: "+tc.want) {
			t.Errorf("%q: check said %v, want %q", tc.yml, errs, tc.want)
		}
	}
}

// TestTransfersConfig: dns.allow-transfer and dns.notify in islet.yml
// parse into ACLs and NOTIFY targets, and bad ones are reported by
// Check with the file's name.
func TestTransfersConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte("dns:\n  allow-transfer: [192.0.2.0/24@xfr, 2001:db8::53]\n  notify: [\"192.0.2.2:53@xfr\"]\n"), 0o644)
	c, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	acl, notify, err := c.Transfers()
	if err != nil || len(acl) != 2 || acl[0].Key != "xfr." || acl[1].Prefix.Bits() != 128 || len(notify) != 1 || notify[0].Addr.Port() != 53 {
		t.Errorf("Transfers() = %v, %v, %v", acl, notify, err)
	}
	dnsErrors := func() []error {
		var out []error
		for _, err := range c.Check() {
			if strings.Contains(err.Error(), ": dns: ") {
				out = append(out, err)
			}
		}
		return out
	}
	if errs := dnsErrors(); len(errs) != 0 {
		t.Errorf("Check() = %v", errs)
	}
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte("dns:\n  notify: [ns1.example]\n"), 0o644)
	if c, err = LoadConfig(dir); err != nil {
		t.Fatal(err)
	}
	if errs := dnsErrors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "islet.yml: dns: notify:") {
		t.Errorf("Check() of a bad notify = %v", errs)
	}
}
