package appliance

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// raiseFileLimit raises the open-file limit as far as it goes: the
// hard limit up to the kernel's fs.nr_open when the process may (root,
// the guest's init), then the soft limit to the hard one. It returns
// the soft limit in effect, 0 when unknown.
func raiseFileLimit() uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n > rl.Max {
			want := unix.Rlimit{Cur: n, Max: n}
			if unix.Setrlimit(unix.RLIMIT_NOFILE, &want) == nil {
				return n
			}
		}
	}
	if rl.Cur < rl.Max {
		up := unix.Rlimit{Cur: rl.Max, Max: rl.Max}
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &up) == nil {
			return rl.Max
		}
	}
	return rl.Cur
}
