package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// StateDiskLabel is the ext4 label of the state disk; the guest mounts
// the disk that carries it.
const StateDiskLabel = "islet-state"

// MakeStateDisk writes an empty ext4 file system of size bytes to path
// with Debian's mke2fs (e2fsprogs): a certs/ folder, owned by root,
// mode 0700. It never touches an existing file: the disk holds the
// appliance's state (the ACME account and certificates) across builds.
func MakeStateDisk(ctx context.Context, path string, size int64) (made bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	mke2fs, err := exec.LookPath("mke2fs")
	if err != nil {
		return false, fmt.Errorf("images: the state disk needs mke2fs (apt-get install e2fsprogs), or --state-disk 0 for none")
	}
	if size < 4<<20 {
		return false, fmt.Errorf("images: a state disk of %d bytes is too small (4 MiB at least)", size)
	}
	seed, err := os.MkdirTemp("", "islet-state-")
	if err != nil {
		return false, fmt.Errorf("images: %w", err)
	}
	defer os.RemoveAll(seed)
	if err := os.Mkdir(filepath.Join(seed, "certs"), 0o700); err != nil {
		return false, fmt.Errorf("images: %w", err)
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	cmd := exec.CommandContext(ctx, mke2fs, "-q", "-F", "-t", "ext4", "-L", StateDiskLabel, "-m", "0",
		"-E", "root_owner=0:0", "-d", seed, tmp, fmt.Sprintf("%dk", size/1024))
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("images: mke2fs: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("images: %w", err)
	}
	return true, nil
}
