package site

import (
	"bytes"
	"reflect"
	"testing"
)

func encodeBytes(t testing.TB, st *renderState) []byte {
	var b bytes.Buffer
	if err := encodeState(&b, st); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleState() *renderState {
	return &renderState{
		Global:    "g1",
		Untracked: true,
		Docs: map[string]docState{
			"_posts/2024-01-01-a.md": {Body: "h1", Deps: []string{"index.html", "about.md"}, Content: "<p>a</p>\n", Excerpt: "<p>a</p>",
				Output: "<html>\u00e9\x00</html>", Extra: map[string][]byte{"feed.xml": []byte("<feed/>"), "x": {}}},
			"index.html": {Body: "h2", Output: ""},
		},
		Files: map[string]string{"index.html": "f1", "2024/01/01/a.html": "f2", "assets/x.png": "static 3 4"},
	}
}

// TestStateCodec: a state comes back as it was written (nil where
// gob, the format before, gave nil: no dependencies, no extra files),
// the encoding is the same whatever the maps' order, and any cut or
// changed byte is refused, never read as another state.
func TestStateCodec(t *testing.T) {
	st := sampleState()
	b := encodeBytes(t, st)
	got, err := decodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("decoded\n%#v\nwant\n%#v", got, st)
	}
	if !bytes.Equal(encodeBytes(t, sampleState()), b) {
		t.Error("two encodings of the same state differ")
	}
	empty, err := decodeState(encodeBytes(t, &renderState{}))
	if err != nil || empty.Global != "" || empty.Untracked || len(empty.Docs) != 0 || len(empty.Files) != 0 {
		t.Errorf("empty state: %#v, %v", empty, err)
	}
	for i := range len(b) {
		if _, err := decodeState(b[:i]); err == nil {
			t.Fatalf("the state cut at %d of %d bytes was read", i, len(b))
		}
	}
	if _, err := decodeState(append(b[:len(b):len(b)], 0)); err == nil {
		t.Error("a state with a byte after it was read")
	}
	bad := bytes.Clone(b)
	bad[len(stateMagic)-2]++ // the version
	if _, err := decodeState(bad); err == nil {
		t.Error("a state of another version was read")
	}
}

// FuzzStateCodec: any bytes are refused or read as a state that
// encodes back to them.
func FuzzStateCodec(f *testing.F) {
	f.Add(encodeBytes(f, sampleState()))
	f.Add(encodeBytes(f, &renderState{}))
	f.Add([]byte(stateMagic + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		if again := encodeBytes(t, st); !bytes.Equal(again, b) {
			// the same state may be written with its maps' keys
			// in another order or repeated: it must read the same
			st2, err := decodeState(again)
			if err != nil || !reflect.DeepEqual(st, st2) {
				t.Fatalf("re-encoded state reads as %#v (%v), want %#v", st2, err, st)
			}
		}
	})
}
