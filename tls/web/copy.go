package web

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// copyChunk is how much of a file goes out per write. io.Copy's 32 KiB
// made each read of a large file one 32 KiB burst of TLS records, and
// over the userspace stack one 35 KB segment; 64 KiB fill a segment.
const copyChunk = 64 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyChunk); return &b }}

// chunkedCopy is a ResponseWriter whose ReadFrom, which
// http.ServeContent's copy calls, reads copyChunk at a time, and whose
// writes each get stall to go out.
type chunkedCopy struct {
	http.ResponseWriter
	stall time.Duration
}

func (c chunkedCopy) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	return io.CopyBuffer(stallWriter{c.ResponseWriter, c.stall}, r, *buf)
}

func (c chunkedCopy) Write(p []byte) (int, error) {
	return stallWriter{c.ResponseWriter, c.stall}.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c chunkedCopy) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// stallWriter writes copyChunk at a time, each with stall to go out: a client that stops reading has its HTTP/2 stream reset, or its
// HTTP/1 connection closed, then, and what the response held is freed.
// It hides the writer's own ReadFrom, so that io.CopyBuffer uses the
// buffer it is given.
type stallWriter struct {
	w     http.ResponseWriter
	stall time.Duration
}

// deadliner is what net/http's HTTP/1 and HTTP/2 response writers have.
type deadliner interface{ SetWriteDeadline(time.Time) error }

func (s stallWriter) Write(p []byte) (int, error) {
	d, _ := s.w.(deadliner)
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), copyChunk)]
		if d != nil {
			d.SetWriteDeadline(time.Now().Add(s.stall))
		}
		m, err := s.w.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}
