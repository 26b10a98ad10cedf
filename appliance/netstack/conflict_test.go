package netstack

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer written by the stack's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

// TestProbeFindsTheHolder probes over a pipe: the other stack answers
// for its own address, and nobody for one that is free.
func TestProbeFindsTheHolder(t *testing.T) {
	server, client := pair(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	holder, err := client.probe(ctx, serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	want := server.s.NICInfo()[nicID].LinkAddress
	if holder.String() != want.String() {
		t.Errorf("probe %s: holder %v, want %v", serverAddr, holder, want)
	}
	start := time.Now()
	free := netip.MustParseAddr("10.0.0.9")
	if holder, err = client.probe(ctx, free); err != nil || holder != nil {
		t.Errorf("probe %s (free): holder %v, %v", free, holder, err)
	}
	// Every probe is sent and waited for before an address is called
	// free.
	if took := time.Since(start); took < probeTransmits*probeInterval {
		t.Errorf("a free address was called free after %v, before the last probe's wait", took)
	}
}

// TestStaticAddressConflictLogged starts a stack with a static address
// another stack on the link has: the conflict is logged as an error
// with the holder's hardware address. A stack whose address is free
// logs that it probed and found nobody.
func TestStaticAddressConflictLogged(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr netip.Addr
		want string
	}{
		{"conflict", serverAddr, "in use by another host"},
		{"free", netip.MustParseAddr("10.0.0.3"), "no other host has it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := Pipe(0)
			holder, err := New(a, Config{IPv4: netip.PrefixFrom(serverAddr, 24)})
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
			var logs lockedBuffer
			st, err := New(b, Config{IPv4: netip.PrefixFrom(tc.addr, 24), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(string(logs.Bytes()), tc.want) {
				if time.Now().After(deadline) {
					t.Fatalf("no %q in the log:\n%s", tc.want, string(logs.Bytes()))
				}
				time.Sleep(10 * time.Millisecond)
			}
			mac := holder.s.NICInfo()[nicID].LinkAddress.String()
			if got := strings.Contains(string(logs.Bytes()), mac); got != (tc.name == "conflict") {
				t.Errorf("the holder's address %s in the log: %v\n%s", mac, got, string(logs.Bytes()))
			}
		})
	}
}
