package layering

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "islet.dev/islet/"

// pkg is what go list says of one of the module's packages.
type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
}

// packages lists every package of the module (tests excluded), so that
// a package added later is checked too.
func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var list []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, mod)
		list = append(list, p)
	}
	if len(list) < 10 {
		t.Fatalf("go list found only %d packages", len(list))
	}
	return list
}

// under reports whether the package path lies in folder.
func under(path, folder string) bool { return path == folder || strings.HasPrefix(path, folder+"/") }

// allowed says which of the module's packages each package may import
// (DESIGN.md's table); the first folder a package lies in decides. Every
// package of the module must be covered.
var allowed = []struct {
	folder string
	may    []string
}{
	// Shared helpers below every capability: they import no package
	// of the module.
	{"internal/pool", nil},
	{"internal/fair", nil},
	{"internal/meminfo", nil},
	{"zones", []string{"internal/pool", "internal/fair"}},
	{"site", []string{"site", "internal/pool"}}, // site/liquid, site/markup, site/plugins inside
	{"tls/certs", []string{"internal/pool"}},
	{"tls/web", []string{"internal/pool", "internal/fair"}},
	{"images", []string{"internal/pool"}},
	{"appliance/netstack", []string{"internal/meminfo"}},
	{"appliance", []string{"appliance", "zones", "site", "tls/certs", "tls/web", "internal/meminfo", "internal/pool", "internal/fair"}},
	{"cmd", []string{"appliance", "images", "zones", "site", "tls/certs", "tls/web"}},
	{"internal", []string{"internal", "zones", "site", "tls/certs", "tls/web", "appliance", "images"}},
}

func TestImportsPointOneWay(t *testing.T) {
	for _, p := range packages(t) {
		i := slices.IndexFunc(allowed, func(a struct {
			folder string
			may    []string
		}) bool {
			return under(p.ImportPath, a.folder)
		})
		if i < 0 {
			t.Errorf("%s is in no layer of DESIGN.md's table: add it to allowed", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			rel, ok := strings.CutPrefix(imp, mod)
			if !ok {
				continue
			}
			if !slices.ContainsFunc(allowed[i].may, func(f string) bool { return under(rel, f) }) && !under(rel, p.ImportPath) {
				t.Errorf("%s imports %s", p.ImportPath, rel)
			}
		}
	}
}

// TestEveryPackageSaysItsJob: each package has a doc comment, the first
// sentence of which names it ("Package x …", "Command x …").
func TestEveryPackageSaysItsJob(t *testing.T) {
	for _, p := range packages(t) {
		if !strings.HasPrefix(p.Doc, "Package "+p.Name+" ") && !(p.Name == "main" && strings.HasPrefix(p.Doc, "Command ")) {
			t.Errorf("%s: doc comment %q does not start with %q", p.ImportPath, p.Doc, "Package "+p.Name)
		}
	}
}

// TestHeavyModulesHaveOneImporter: each heavy dependency enters through
// one package.
func TestHeavyModulesHaveOneImporter(t *testing.T) {
	owner := map[string][]string{
		"github.com/miekg/dns":                {"zones", "internal/dnspeer", "internal/dnsflood"}, // and tests, and the test tools
		"golang.org/x/crypto/acme":            {"tls/certs"},
		"golang.org/x/crypto/acme/autocert":   {"tls/certs"},
		"golang.org/x/crypto/ocsp":            {"tls/certs"},
		"github.com/andybalholm/brotli":       {"tls/web"},
		"gopkg.in/yaml.v3":                    {"appliance", "site"}, // islet.yml; front matter and data
		"github.com/insomniacslk/dhcp/dhcpv4": {"appliance/netstack"},
		"github.com/yuin/goldmark":            {"site/markup"},
		"github.com/alecthomas/chroma/v2":     {"site/markup"},
		"github.com/bep/golibsass/libsass":    {"site"},
	}
	for _, p := range packages(t) {
		for _, imp := range p.Imports {
			for dep, owners := range owner {
				if (imp == dep || strings.HasPrefix(imp, dep+"/")) && !slices.Contains(owners, p.ImportPath) {
					t.Errorf("%s imports %s, which belongs to %v", p.ImportPath, imp, owners)
				}
			}
			if strings.HasPrefix(imp, "gvisor.dev/") && p.ImportPath != "appliance/netstack" {
				t.Errorf("%s imports %s: gVisor belongs to appliance/netstack", p.ImportPath, imp)
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
