package netstack

import (
	"sync"
	"sync/atomic"
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

// readDeadline is a deadline that says whether it has passed, and wakes
// a waiting read when it does.
type readDeadline struct {
	deadline
	gone atomic.Bool // the deadline has passed
}

func (r *readDeadline) init(wake func()) {
	r.onPass = func() { r.gone.Store(true); wake() }
	r.onClear = func() { r.gone.Store(false) }
}

// poke wakes whoever waits on ch, a channel of one: a wake-up already
// waiting there is as good.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
