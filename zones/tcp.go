package zones

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"islet.dev/islet/internal/fair"
)

// tcpWriteTimeout bounds how long a client may take to read a response.
const tcpWriteTimeout = 10 * time.Second

// ServeStream answers DNS over TCP (RFC 7766) on ln until ctx ends. It
// closes every connection it accepted; ln itself is closed only when it
// has no SetDeadline to wake Accept with (a userspace stack's listener). A
// connection carries any number of queries, pipelined; it is closed after
// the idle timeout, and connections past the limit are closed at once.
func (s *Server) ServeStream(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]struct{}{}
	stop := context.AfterFunc(ctx, func() {
		if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
			d.SetDeadline(time.Unix(1, 0))
		} else {
			ln.Close()
		}
		mu.Lock()
		for c := range open {
			c.SetDeadline(time.Unix(1, 0))
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	sweepCtx, endSweep := context.WithCancel(ctx)
	defer endSweep()
	go s.conns.SweepIdle(sweepCtx)
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.Is(err, net.ErrClosed) || !errors.As(err, &ne) {
				return fmt.Errorf("zones: serve tcp: %w", err)
			}
			// EMFILE and the like pass: wait a little, as net/http does,
			// and go on as long as it takes.
			if backoff == 0 {
				s.log.Warn("accepting DNS connections fails; retrying", "err", err)
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			continue
		}
		if backoff != 0 {
			s.log.Info("accepting DNS connections again")
		}
		backoff = 0
		fc, how := s.conns.Admit(c)
		if how != fair.Admitted {
			s.warnFull()
		}
		if fc == nil {
			continue
		}
		mu.Lock()
		open[fc] = struct{}{}
		mu.Unlock()
		if ctx.Err() != nil {
			fc.SetDeadline(time.Unix(1, 0))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(fc)
			mu.Lock()
			delete(open, fc)
			mu.Unlock()
		}()
	}
}

// warnFull says, at most once a minute, that the TCP connection limits
// are reached.
func (s *Server) warnFull() {
	now := time.Now().Unix()
	if last := s.warned.Load(); now-last < 60 || !s.warned.CompareAndSwap(last, now) {
		return
	}
	cfg, st := s.conns.Config(), s.conns.Stats()
	s.log.Warn("TCP connection limits reached: new connections refused, or taken from the clients holding the most",
		"limit", cfg.Max, "per_client", cfg.PerClient, "open", st.Open, "clients", st.Clients, "refused", st.Refused, "evicted", st.Evicted)
}

func (s *Server) serveConn(c *fair.Conn) {
	defer c.Close()
	client := addrOf(c.RemoteAddr())
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 8192)
	sc := newScratch()
	in := make([]byte, 0, 512)
	out := make([]byte, 0, 4096)
	var lenBuf [2]byte
	for {
		c.SetReadDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
		if r.Buffered() == 0 {
			c.SetIdle(true) // waiting: may be closed for another client
		}
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
			return
		}
		c.SetIdle(false)
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if cap(in) < n {
			in = make([]byte, n)
		}
		in = in[:n]
		if _, err := io.ReadFull(r, in); err != nil {
			return
		}
		if isTransfer(in) {
			if err := s.serveTransfer(c, w, in, client); err != nil {
				return
			}
			continue
		}
		resp := s.observedTCP(in, out, sc, client)
		if resp == nil {
			continue
		}
		if cap(resp) > cap(out) && cap(resp) <= 16<<10 {
			out = resp[:0]
		}
		c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
		binary.BigEndian.PutUint16(lenBuf[:], uint16(len(resp)))
		w.Write(lenBuf[:])
		w.Write(resp)
		// Answer pipelined queries together: flush once nothing more
		// is waiting.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}
