package zones_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"islet.dev/islet/zones"
)

// failingListener fails every Accept with err, calling onFail with the
// count so far; Close makes Accept return net.ErrClosed.
type failingListener struct {
	err    error
	onFail func(n int)
	mu     sync.Mutex
	n      int
	closed chan struct{}
	once   sync.Once
}

func (l *failingListener) Accept() (net.Conn, error) {
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
	}
	l.mu.Lock()
	l.n++
	n := l.n
	l.mu.Unlock()
	if l.onFail != nil {
		l.onFail(n)
	}
	return nil, l.err
}

func (l *failingListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *failingListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

func newServer(t *testing.T) *zones.Server {
	t.Helper()
	srv, err := zones.New(zones.Config{}, loadDir(t, "testdata/conformance"))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestAcceptErrors: a run of accept errors such as EMFILE is waited out,
// however long (the server must not stop, taking DNS over TCP down with
// it), and a stop asked for during the wait ends it at once; an error
// that is not the network's ends ServeStream with it.
func TestAcceptErrors(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	t.Run("EMFILE is waited out and a stop is prompt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var stopAsked time.Time
		var mu sync.Mutex
		ln := &failingListener{err: emfile, closed: make(chan struct{}), onFail: func(n int) {
			if n == 9 { // the wait after this one is a second: stop in the middle of it
				time.AfterFunc(50*time.Millisecond, func() {
					mu.Lock()
					stopAsked = time.Now()
					mu.Unlock()
					cancel()
				})
			}
		}}
		err := newServer(t).ServeStream(ctx, ln)
		mu.Lock()
		took := time.Since(stopAsked)
		mu.Unlock()
		if err != nil {
			t.Fatalf("ServeStream gave up on EMFILE: %v", err)
		}
		if ln.n < 9 {
			t.Fatalf("ServeStream returned after %d accept errors", ln.n)
		}
		if took > 500*time.Millisecond {
			t.Errorf("ServeStream returned %v after the stop: the wait between accepts ignores the context", took)
		}
	})
	t.Run("an error not of the network ends it", func(t *testing.T) {
		ln := &failingListener{err: errors.New("broken listener"), closed: make(chan struct{})}
		if err := newServer(t).ServeStream(context.Background(), ln); err == nil || ln.n != 1 {
			t.Fatalf("ServeStream returned %v after %d accepts", err, ln.n)
		}
	})
	t.Run("a listener closed under it ends it", func(t *testing.T) {
		ln := &failingListener{closed: make(chan struct{})}
		ln.Close()
		if err := newServer(t).ServeStream(context.Background(), ln); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ServeStream returned %v", err)
		}
	})
}
