package netstack

import (
	"sync"
	"time"
)

// deadline is a net.Conn deadline kept with one timer, reset each time
// it is set: onPass runs once when it passes (at once for a time
// already gone), onClear when it is set again after that.
type deadline struct {
	mu      sync.Mutex
	t       time.Time
	timer   *time.Timer
	over    bool
	onPass  func()
	onClear func()
}

// when is the deadline set last.
func (d *deadline) when() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.t
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t = t
	if d.over {
		d.over = false
		d.onClear()
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	if t.IsZero() {
		return
	}
	until := time.Until(t)
	if until <= 0 {
		d.pass()
		return
	}
	if d.timer == nil {
		d.timer = time.AfterFunc(until, d.fire)
	} else {
		d.timer.Reset(until)
	}
}

// fire runs on the timer: the deadline passed unless it was moved.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.t.IsZero() && !time.Now().Before(d.t) {
		d.pass()
	}
}

func (d *deadline) pass() {
	if !d.over {
		d.over = true
		d.onPass()
	}
}

// longAgo is a deadline that has passed.
var longAgo = time.Unix(1, 0)

// readDeadline is a deadline as a channel that is closed when it passes.
type readDeadline struct {
	deadline
	ch chan struct{} // guarded by deadline.mu
}

func (r *readDeadline) init() {
	r.ch = make(chan struct{})
	r.onPass = func() { close(r.ch) }
	r.onClear = func() { r.ch = make(chan struct{}) }
}

// passed is closed once the deadline has passed.
func (r *readDeadline) passed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ch
}
