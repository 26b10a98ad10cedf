package appliance

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestJoinedListener accepts from both listeners it joins, and Close
// ends a waiting Accept and closes both.
func TestJoinedListener(t *testing.T) {
	var ls []net.Listener
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	j := joinListeners(ls...)
	if j.Addr().String() != ls[0].Addr().String() {
		t.Errorf("joined listener's address %s, want the first's %s", j.Addr(), ls[0].Addr())
	}
	for _, l := range ls {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a, err := j.Accept()
		if err != nil {
			t.Fatalf("accept from %s: %v", l.Addr(), err)
		}
		if a.LocalAddr().String() != l.Addr().String() {
			t.Errorf("accepted on %s, want %s", a.LocalAddr(), l.Addr())
		}
		a.Close()
	}
	done := make(chan error, 1)
	go func() { _, err := j.Accept(); done <- err }()
	time.Sleep(20 * time.Millisecond)
	j.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end a waiting Accept")
	}
	for _, l := range ls {
		if c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Close", l.Addr())
		}
	}
}
