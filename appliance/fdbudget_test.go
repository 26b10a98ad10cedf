//go:build linux

package appliance

import (
	"log/slog"
	"testing"

	"golang.org/x/sys/unix"
)

func TestBudgetFiles(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		limit      uint64
		https, tcp int
		want       fileBudget
	}{
		{0, 4096, 512, fileBudget{4096, 512, maxOpenFiles}},         // unknown: as asked
		{1 << 20, 24576, 512, fileBudget{24576, 512, maxOpenFiles}}, // plenty
		{1024, 128, 512, fileBudget{128, 512, 128}},                 // 2*128+512+128+128 = 1024 fits
		{1024, 4096, 512, fileBudget{361, 45, 128}},                 // scaled: 768 left for 8704 asked
		{20000, 24576, 512, fileBudget{9706, 202, maxOpenFiles}},    // a host with 24 GiB and 20000 files
		{64, 4096, 512, fileBudget{8, 8, 8}},                        // floors
	} {
		got := budgetFiles(tc.limit, tc.https, tc.tcp, true, log)
		if got != tc.want {
			t.Errorf("limit %d, https %d, tcp %d: %+v, want %+v", tc.limit, tc.https, tc.tcp, got, tc.want)
		}
		if tc.limit > 512 && uint64(2*got.https+got.tcp+got.files+fdReserve) > tc.limit {
			t.Errorf("limit %d: %+v does not fit", tc.limit, got)
		}
	}
}

// TestRaiseFileLimit: a low soft limit is raised to the hard one, or
// past it where the process may.
func TestRaiseFileLimit(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	low := unix.Rlimit{Cur: 256, Max: rl.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	got := raiseFileLimit()
	var now unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &now)
	if got < rl.Max || now.Cur != got {
		t.Errorf("raised to %d (soft limit now %d), want at least the hard limit %d", got, now.Cur, rl.Max)
	}
}
