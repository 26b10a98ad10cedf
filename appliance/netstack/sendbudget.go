package netstack

import (
	"sync"
	"time"

	"islet.dev/islet/internal/meminfo"
)

// A connection's send share is its stack send buffer and what its
// writes may hold before they wait (pending), four parts to one. The
// largest share is what a connection gets on a quiet stack; the least,
// what it gets however many there are.
const (
	maxShare = (1 << 20) + maxPending
	minShare = 48 << 10
)

// sendBudget bounds the memory the stack's accepted connections may
// hold to send: a reader that stops reading leaves the stack holding
// its send buffer and held writes (1.25 MiB), and a hundred such
// readers filled 250 MB, more than a small guest has. Each accepted
// connection takes a share of what is left, a sixteenth of it between
// minShare and maxShare, and gives it back once its data has gone (or
// has been given up). Past the budget connections still come, with the
// least share each.
type sendBudget struct {
	mu   sync.Mutex
	free int64
	// linger is how long a closed connection's data may take to leave
	// before the connection is reset and its share given back.
	linger time.Duration
}

func newSendBudget(total int64) *sendBudget { return &sendBudget{free: total, linger: closeLinger} }

// take reserves a connection's share.
func (b *sendBudget) take() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	share := min(max(b.free/16, minShare), maxShare)
	b.free -= share
	return share
}

// give returns a share.
func (b *sendBudget) give(share int64) {
	b.mu.Lock()
	b.free += share
	b.mu.Unlock()
}

// split divides a share into the stack's send buffer and what writes
// may hold.
func split(share int64) (sendBuffer, pending int) {
	pending = int(share / 5)
	return int(share) - pending, pending
}

// defaultSendMemory is a quarter of the machine's memory (the guest's,
// inside one), or 64 MiB when that cannot be read.
func defaultSendMemory() int64 {
	if total := meminfo.Total(); total > 0 {
		return total / 4
	}
	return 64 << 20
}
