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
