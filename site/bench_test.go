package site

import (
	"context"
	"os"
	"testing"
)

// BenchmarkRender renders the tree in $ISLET_BENCH_SITE (bench/site.sh
// generates one), or the fixture site.
func BenchmarkRender(b *testing.B) {
	dir := os.Getenv("ISLET_BENCH_SITE")
	if dir == "" {
		dir = "testdata/sites/fixture"
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(context.Background(), root.FS(), Options{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
