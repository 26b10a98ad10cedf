package web

import (
	"io"
	"net/http"
	"sync"
)

// copyChunk is how much of a file goes out per write. io.Copy's 32 KiB
// made each read of a large file one 32 KiB burst of TLS records, and
// over the userspace stack one 35 KB segment; 64 KiB fill a segment.
const copyChunk = 64 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyChunk); return &b }}

// chunkedCopy is a ResponseWriter whose ReadFrom, which
// http.ServeContent's copy calls, reads copyChunk at a time.
type chunkedCopy struct{ http.ResponseWriter }

func (c chunkedCopy) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	return io.CopyBuffer(writerOnly{c.ResponseWriter}, r, *buf)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c chunkedCopy) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// writerOnly hides the writer's own ReadFrom, so that CopyBuffer uses
// the buffer it is given.
type writerOnly struct{ io.Writer }
