package layering

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "islet.dev/islet/"

// imports lists the packages pkg imports directly (tests excluded).
func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, mod+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestCapabilitiesDoNotImportEachOther(t *testing.T) {
	forbidden := map[string][]string{
		"zones":     {"tls", "site", "appliance", "images", "cmd"},
		"images":    {"zones", "tls", "site", "appliance", "cmd"},
		"tls":       {"zones", "site", "appliance", "images", "cmd"},
		"site":      {"zones", "tls", "appliance", "images", "cmd"},
		"appliance": {"cmd"},
	}
	for pkg, bad := range forbidden {
		for _, imp := range imports(t, pkg) {
			for _, b := range bad {
				if imp == mod+b || strings.HasPrefix(imp, mod+b+"/") {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
}

// TestHeavyModulesHaveOneImporter: each heavy dependency enters through
// one package.
func TestHeavyModulesHaveOneImporter(t *testing.T) {
	owner := map[string][]string{
		"github.com/miekg/dns":                {"zones"},
		"golang.org/x/crypto/acme":            {"tls"},
		"golang.org/x/crypto/acme/autocert":   {"tls"},
		"github.com/andybalholm/brotli":       {"tls"},
		"gopkg.in/yaml.v3":                    {"appliance", "site"}, // islet.yml; front matter and data
		"github.com/insomniacslk/dhcp/dhcpv4": {"appliance/netstack"},
		"github.com/yuin/goldmark":            {"site"},
		"github.com/alecthomas/chroma/v2":     {"site"},
		"github.com/bep/golibsass/libsass":    {"site"},
	}
	for _, pkg := range []string{"zones", "tls", "site", "site/liquid", "appliance", "appliance/netstack", "cmd/islet"} {
		for _, imp := range imports(t, pkg) {
			if o, ok := owner[imp]; ok && !slices.Contains(o, pkg) {
				t.Errorf("%s imports %s, which belongs to %v", pkg, imp, o)
			}
			if strings.HasPrefix(imp, "gvisor.dev/") && pkg != "appliance/netstack" {
				t.Errorf("%s imports %s: gVisor belongs to appliance/netstack", pkg, imp)
			}
		}
	}
}

// TestGuestHasNoRenderer: the appliance image's binary (build tag
// guest) serves the rendered site; the renderer, Markdown, highlighting
// and Sass stay out of it (and out of the guest's memory), and so do
// image building and booting (images/, its zstd decoder).
func TestGuestHasNoRenderer(t *testing.T) {
	cmd := exec.Command("go", "list", "-tags", "guest", "-deps", mod+"cmd/islet")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == mod+"site" || strings.HasPrefix(dep, mod+"site/") || strings.Contains(dep, "goldmark") ||
			strings.Contains(dep, "chroma") || strings.Contains(dep, "golibsass") ||
			dep == mod+"images" || strings.Contains(dep, "klauspost/compress/zstd") {
			t.Errorf("the guest binary depends on %s", dep)
		}
	}
}
