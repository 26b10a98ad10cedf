package web

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/fstest"
	"time"
)

// sizesReader records the size of each read asked of it.
type sizesReader struct {
	r     io.Reader
	sizes []int
}

func (s *sizesReader) Read(p []byte) (int, error) {
	s.sizes = append(s.sizes, len(p))
	return s.r.Read(p)
}

// TestChunkedCopy: ServeContent's copy reads copyChunk at a time and
// writes every byte.
func TestChunkedCopy(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 30000)
	src := &sizesReader{r: bytes.NewReader(data)}
	w := httptest.NewRecorder()
	n, err := io.Copy(chunkedCopy{w, time.Second}, io.LimitReader(src, int64(len(data))))
	if err != nil || n != int64(len(data)) || !bytes.Equal(w.Body.Bytes(), data) {
		t.Fatalf("copied %d of %d (%v), body equal: %v", n, len(data), err, bytes.Equal(w.Body.Bytes(), data))
	}
	if src.sizes[0] != copyChunk {
		t.Errorf("reads of %v bytes, want %d", src.sizes, copyChunk)
	}
}

// TestLargeFile: a file too large to keep in memory is read per
// request, whole and by ranges that cross the copy's chunks.
func TestLargeFile(t *testing.T) {
	data := make([]byte, maxInMemory+3*copyChunk+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	s, err := NewSite(fstest.MapFS{"big.bin": {Data: data}}, SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := get(s, "GET", "/big.bin"); w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) {
		t.Errorf("GET: %d, %d bytes of %d, equal %v", w.Code, w.Body.Len(), len(data), bytes.Equal(w.Body.Bytes(), data))
	}
	from, to := copyChunk-5, 3*copyChunk+5
	w := get(s, "GET", "/big.bin", "Range", "bytes="+strconv.Itoa(from)+"-"+strconv.Itoa(to))
	if w.Code != 206 || !bytes.Equal(w.Body.Bytes(), data[from:to+1]) {
		t.Errorf("Range: %d, %d bytes, want %d", w.Code, w.Body.Len(), to-from+1)
	}
}
