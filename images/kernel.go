package images

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	// The kernel ships as a Go module: importing its (empty) package
	// pins its version in go.mod and go.sum like any dependency.
	_ "github.com/gokrazy/kernel.amd64"
)

const kernelModule = "github.com/gokrazy/kernel.amd64"

// KernelPath returns the path of the pinned kernel image (vmlinuz) in the
// module cache, downloading the module through the Go module proxy when
// it is not there yet. The version is the one this binary was built
// with.
func KernelPath() (string, error) {
	version, err := kernelVersion()
	if err != nil {
		return "", err
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("images: go env GOMODCACHE: %w", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), kernelModule+"@"+version, "vmlinuz")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if out, err := exec.Command("go", "mod", "download", kernelModule+"@"+version).CombinedOutput(); err != nil {
		return "", fmt.Errorf("images: download the kernel: %v\n%s", err, out)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("images: kernel: %w", err)
	}
	return path, nil
}

func kernelVersion() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("images: no build information in this binary")
	}
	for _, d := range info.Deps {
		if d.Path == kernelModule {
			if d.Replace != nil {
				return d.Replace.Version, nil
			}
			return d.Version, nil
		}
	}
	// Test binaries carry no dependency list: ask the go command, which
	// works inside the islet module.
	out, err := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", kernelModule).Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v, nil
	}
	return "", errors.New("images: cannot tell which kernel this islet was built with")
}
