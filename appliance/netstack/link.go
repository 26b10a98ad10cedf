package netstack

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Link is where a stack's frames come from and go to.
type Link struct {
	ep      stack.LinkEndpoint
	release func() // closes the device or socket after the stack stops
	// stop ends the link's reading goroutines. It must run before the
	// stack removes the NIC: gVisor removes it holding the stack's lock
	// and waits for those goroutines, which may be delivering a frame
	// that needs that lock (a deadlock seen at shutdown under load).
	stop    func()
	name    string
	dropped *atomic.Int64 // frames a lossy pipe dropped
	thinned *atomic.Int64 // superseded ACKs a packet link left out
	failed  chan string   // why the link stopped reading, if it did
}

// String names the link for logs.
func (l *Link) String() string { return l.name }

// Pipe returns two Ethernet links joined back to back in memory, for
// tests that need no root. Each direction drops the given fraction of
// frames.
func Pipe(loss float64) (*Link, *Link) {
	a, b := pipe.New(randomMAC(), randomMAC(), 1500)
	la, lb := &Link{name: "pipe-a", dropped: new(atomic.Int64)}, &Link{name: "pipe-b", dropped: new(atomic.Int64)}
	la.ep, lb.ep = ethernet.New(lossy(a, loss, la.dropped)), ethernet.New(lossy(b, loss, lb.dropped))
	return la, lb
}

// randomMAC makes a locally administered unicast address.
func randomMAC() tcpip.LinkAddress {
	var b [6]byte
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	b[0] = b[0]&^1 | 2
	return tcpip.LinkAddress(b[:])
}

// lossEndpoint drops a fraction of the frames written to it.
type lossEndpoint struct {
	nested.Endpoint
	loss    float64
	dropped *atomic.Int64
	mu      sync.Mutex
	rng     *rand.Rand
}

func lossy(ep stack.LinkEndpoint, loss float64, dropped *atomic.Int64) stack.LinkEndpoint {
	if loss <= 0 {
		return ep
	}
	l := &lossEndpoint{loss: loss, dropped: dropped, rng: rand.New(rand.NewPCG(1, 2))}
	l.Endpoint.Init(ep, l)
	return l
}

func (l *lossEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	var keep stack.PacketBufferList
	n := 0
	for _, pkt := range pkts.AsSlice() {
		l.mu.Lock()
		drop := l.rng.Float64() < l.loss
		l.mu.Unlock()
		if drop {
			l.dropped.Add(1)
			n++
			continue
		}
		keep.PushBack(pkt.IncRef())
	}
	defer keep.DecRef()
	written, err := l.Endpoint.WritePackets(keep)
	return n + written, err
}
