package guest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"islet.dev/islet/appliance/netstack"
)

// steppedClock moves on by each wait asked for, and by what a run
// says it lasted.
type steppedClock struct {
	now   time.Time
	waits []time.Duration
}

func (c *steppedClock) Now() time.Time { return c.now }

func (c *steppedClock) After(d time.Duration) <-chan time.Time {
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// run is one scripted run of the services: how long it lasts, what it
// returns, and whether a deliberate stop comes during it.
type run struct {
	lasts time.Duration
	err   error
	stop  bool
}

func TestSupervise(t *testing.T) {
	fail := errors.New("listener lost")
	repeat := func(n int, r run) []run {
		var out []run
		for range n {
			out = append(out, r)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		runs      []run
		want      action
		wantWaits []time.Duration
	}{
		{"a deliberate stop powers off", []run{{lasts: time.Hour, stop: true}}, powerOff, nil},
		{"a stop after failures powers off", []run{{err: fail}, {err: fail}, {stop: true}}, powerOff, []time.Duration{time.Second, 2 * time.Second}},
		{"a new address reboots at once", []run{{err: fmt.Errorf("netstack: %w", netstack.ErrAddressMoved)}}, reboot, nil},
		{"failures are restarted with a doubling wait, then the machine reboots",
			repeat(maxRestarts+1, run{err: fail}), reboot,
			[]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}},
		{"a long run starts the wait over",
			append(append(repeat(4, run{err: fail}), run{lasts: restartReset, err: fail}), run{err: fail}, run{stop: true}), powerOff,
			[]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, time.Second, 2 * time.Second}},
		{"a run returning nil without a stop is a failure", []run{{}, {stop: true}}, powerOff, []time.Duration{time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &steppedClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := 0
			act, _ := supervise(ctx, func(context.Context) error {
				if n == len(tc.runs) {
					t.Fatalf("run %d: more runs than scripted", n+1)
				}
				r := tc.runs[n]
				n++
				clk.now = clk.now.Add(r.lasts)
				if r.stop {
					cancel()
				}
				return r.err
			}, clk, slog.New(slog.DiscardHandler))
			if act != tc.want {
				t.Errorf("%v, want %v", act, tc.want)
			}
			if n != len(tc.runs) {
				t.Errorf("%d runs, want %d", n, len(tc.runs))
			}
			if fmt.Sprint(clk.waits) != fmt.Sprint(tc.wantWaits) {
				t.Errorf("waits %v, want %v", clk.waits, tc.wantWaits)
			}
		})
	}
}
