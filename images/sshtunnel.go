package images

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// A deployment over qemu+ssh: one SSH connection to the libvirt host
// carries both the libvirt protocol (to the daemon's unix socket) and
// the health checks (TCP to the guest, forwarded by the host), so that a
// guest on the host's private network is checked from anywhere. The
// options are those of libvirt's ssh transport: the user and port of
// the URI, ?keyfile= (else the first of ~/.ssh/id_ed25519, id_ecdsa,
// id_rsa), the ssh agent, ~/.ssh/known_hosts (?no_verify=1 skips the
// check), ?socket= (else libvirt's system socket).

// Dial opens a connection to a deployed guest.
type Dial = func(ctx context.Context, network, address string) (net.Conn, error)

const (
	libvirtSocket = "/var/run/libvirt/libvirt-sock"
	sshTimeout    = 20 * time.Second
)

// sshDialer reaches libvirtd's socket through an SSH connection.
type sshDialer struct {
	client *ssh.Client
	socket string
}

func (s sshDialer) Dial() (net.Conn, error) {
	c, err := s.client.Dial("unix", s.socket)
	if err != nil {
		return nil, fmt.Errorf("libvirt's socket %s on the host: %w", s.socket, err)
	}
	return c, nil
}

// sshConnect opens the SSH connection a qemu+ssh URI names.
func sshConnect(u *url.URL) (*ssh.Client, error) {
	q := u.Query()
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, err
	}
	name := u.User.Username()
	if name == "" {
		cur, err := user.Current()
		if err != nil {
			return nil, err
		}
		name = cur.Username
	}
	var signers []ssh.Signer
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if c, err := net.Dial("unix", sock); err == nil {
			defer c.Close()
			if s, err := agent.NewClient(c).Signers(); err == nil {
				signers = append(signers, s...)
			}
		}
	}
	given := q.Get("keyfile")
	keyfiles := []string{given}
	if given == "" {
		keyfiles = []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_ecdsa"), filepath.Join(home, ".ssh", "id_rsa")}
	}
	for _, f := range keyfiles {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) && given == "" {
			continue // the next default
		}
		if err != nil {
			return nil, fmt.Errorf("ssh key: %w", err)
		}
		s, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("ssh key %s: %w", f, err)
		}
		signers = append(signers, s)
		break
	}
	if len(signers) == 0 {
		return nil, errors.New("no ssh key: none in the agent, none in ~/.ssh (id_ed25519, id_ecdsa, id_rsa), no ?keyfile= in the URI")
	}
	hostKey := ssh.InsecureIgnoreHostKey() //nolint:gosec // only when the URI says no_verify=1
	if q.Get("no_verify") != "1" {
		known := filepath.Join(home, ".ssh", "known_hosts")
		if hostKey, err = knownhosts.New(known); err != nil {
			return nil, fmt.Errorf("the host's key is checked against %s: %w (ssh-keyscan %s >> %s adds it)", known, err, u.Hostname(), known)
		}
	}
	port := u.Port()
	if port == "" {
		port = "22"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: name, Auth: []ssh.AuthMethod{ssh.PublicKeys(signers...)}, HostKeyCallback: hostKey, Timeout: sshTimeout})
	if err != nil {
		return nil, fmt.Errorf("ssh %s@%s: %w", name, addr, err)
	}
	return c, nil
}
