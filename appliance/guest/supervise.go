package guest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"islet.dev/islet/appliance/netstack"
)

// action is what the machine does once the services are over.
type action int

const (
	powerOff action = iota // a deliberate stop
	reboot                 // start afresh: a new address, or failures that restarts did not mend
)

// Restarting the services after a failure: the first wait, the longest,
// how long a run must last to start the backoff over, and how many
// restarts in a row are tried before the machine reboots.
const (
	restartFirst = time.Second
	restartMax   = time.Minute
	restartReset = 10 * time.Minute
	maxRestarts  = 8
)

// clock is time as the supervisor sees it; tests step it.
type clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// supervise runs the services (run) until a deliberate stop, which ends
// ctx, and says what the machine should do then. A run that fails
// otherwise (a listener lost, accept errors that do not pass) is logged
// and started again after a wait, 1 s doubling to a minute; a run that
// lasted ten minutes starts the wait over. When maxRestarts restarts in
// a row did not help, or when DHCP moved the appliance to another
// address, the machine reboots, as it does on a panic: an unattended
// appliance must not stay off. Powering off is for a deliberate stop
// only.
func supervise(ctx context.Context, run func(context.Context) error, clk clock, log *slog.Logger) (action, error) {
	wait, failures := restartFirst, 0
	for {
		start := clk.Now()
		err := run(ctx)
		if ctx.Err() != nil {
			return powerOff, err
		}
		if errors.Is(err, netstack.ErrAddressMoved) {
			log.Warn("the network gave another address: rebooting to serve on it", "component", "guest", "err", err)
			return reboot, err
		}
		if err == nil {
			err = errors.New("the services stopped on their own")
		}
		if clk.Now().Sub(start) >= restartReset {
			wait, failures = restartFirst, 0
		}
		if failures == maxRestarts {
			log.Error("the services keep failing: rebooting", "component", "guest", "restarts", failures, "err", err)
			return reboot, err
		}
		failures++
		log.Error("the services failed: restarting them", "component", "guest", "in", wait, "restart", failures, "err", err)
		select {
		case <-ctx.Done():
			return powerOff, err
		case <-clk.After(wait):
		}
		wait = min(2*wait, restartMax)
	}
}
