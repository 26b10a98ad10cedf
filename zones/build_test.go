package zones

import (
	"testing"
	"testing/fstest"
)

// TestEscapedDotOwners checks the names of the names above an owner with
// an escaped dot in a label: the dot ends no label, so an empty
// non-terminal there (f) is named by the labels after it, and a name
// with records of its own (e) is served under its own name.
func TestEscapedDotOwners(t *testing.T) {
	text := "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nx\\.y.e A 192.0.2.2\ne TXT \"e\"\na\\.b.f A 192.0.2.3\n"
	set, diags, err := LoadFS(fstest.MapFS{"example.org.zone": {Data: []byte(text)}}, "zones")
	if err != nil {
		t.Fatalf("%v\n%s", err, diags)
	}
	z := set.Zones()[0]
	for name, want := range map[string]string{"\x03x.y\x01e\x07example\x03org\x00": `x\.y.e.example.org.`, "\x01e\x07example\x03org\x00": "e.example.org.", "\x01f\x07example\x03org\x00": "f.example.org."} {
		n := z.nodes[name]
		if n == nil || n.name != want {
			t.Errorf("node %q: %v, want the name %s", name, n, want)
			continue
		}
		for _, rr := range n.allSets() {
			for _, r := range rr.rrs {
				if r.Header().Name != want {
					t.Errorf("record %s is at %s", r, want)
				}
			}
		}
	}
}
