package appliance

import (
	"net"
	"sync"
)

// joinedListener accepts from several listeners as one: the userspace
// stack's IPv4 address and its IPv6 addresses.
type joinedListener struct {
	ls    []net.Listener
	conns chan accepted
	done  chan struct{}
	once  sync.Once
}

type accepted struct {
	c   net.Conn
	err error
}

// joinListeners starts accepting on every listener in ls, the first of
// which gives the joined listener's address.
func joinListeners(ls ...net.Listener) net.Listener {
	if len(ls) == 1 {
		return ls[0]
	}
	j := &joinedListener{ls: ls, conns: make(chan accepted), done: make(chan struct{})}
	for _, l := range ls {
		go j.accept(l)
	}
	return j
}

// accept hands l's connections to Accept until l fails (or is closed):
// that error goes to Accept too, once.
func (j *joinedListener) accept(l net.Listener) {
	for {
		c, err := l.Accept()
		select {
		case j.conns <- accepted{c, err}:
		case <-j.done:
			if c != nil {
				c.Close()
			}
			return
		}
		if err != nil {
			return
		}
	}
}

func (j *joinedListener) Accept() (net.Conn, error) {
	select {
	case a := <-j.conns:
		return a.c, a.err
	case <-j.done:
		return nil, net.ErrClosed
	}
}

// Close closes every listener.
func (j *joinedListener) Close() error {
	var err error
	j.once.Do(func() {
		close(j.done)
		for _, l := range j.ls {
			if e := l.Close(); e != nil && err == nil {
				err = e
			}
		}
	})
	return err
}

func (j *joinedListener) Addr() net.Addr { return j.ls[0].Addr() }
