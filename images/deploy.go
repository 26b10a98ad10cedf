package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/digitalocean/go-libvirt"
	"golang.org/x/crypto/ssh"
)

// Deploying an image to libvirt (islet deploy): the kernel, initramfs
// and state disk go up as storage volumes of a pool of islet's own, the
// domain is defined from the libvirt descriptor with their paths, the
// running deployment of the same name is shut down with the power
// button and the new one started on the same state disk; it must pass
// a health check in time, or the previous image is started again. The
// domain's description lists the images deployed, newest first; the
// last keepImages keep their volumes.

const (
	deployPool  = "islet"
	keepImages  = 5
	imagesNote  = "islet images:"
	startedNote = "started"
	bootNote    = "boot" // "boot HASH SETTING…": an image's boot settings
)

// DeployOptions say what to deploy where.
type DeployOptions struct {
	URI  string // libvirt connection URI: qemu:///system, qemu+ssh://user@host/system
	Name string // the domain
	// Image is what Build made; for Rollback and Status only its state
	// disk's absence matters.
	Image Result
	// Check is the health check: nil when the deployment at addr,
	// reached through dial, serves what was built.
	Check func(ctx context.Context, addr netip.Addr, dial Dial) error
	// Alive is the check of an image started again (a rollback): nil
	// when the deployment at addr answers at all.
	Alive func(ctx context.Context, addr netip.Addr, dial Dial) error
	// Report, for Status, asks the running deployment what it serves,
	// through dial.
	Report        func(ctx context.Context, dep *Deployment, dial Dial)
	HealthTimeout time.Duration
	Progress      io.Writer
	// Boot is the boot settings (islet.NAME=VALUE) the deployed image
	// runs with, added to its kernel command line. Each image kept
	// keeps its own: a rollback starts an image with those it ran with.
	Boot []string
}

// Deployment is what runs after a deploy, a rollback, or now.
type Deployment struct {
	Name   string
	Image  string   // the image's hash
	Images []string // the images kept, newest first
	Addr   netip.Addr
	State  string // running, shut off, …
	// Started is when deploy started the running image (zero when not
	// known).
	Started time.Time
}

// deployer holds a libvirt connection, and the way to the guests.
type deployer struct {
	l    *libvirt.Libvirt
	opt  DeployOptions
	pool libvirt.StoragePool
	dial Dial
	ssh  *ssh.Client // over qemu+ssh: what carries both
}

func connect(opt DeployOptions) (*deployer, error) {
	u, err := url.Parse(opt.URI)
	if err != nil {
		return nil, fmt.Errorf("deploy: --to %q: %w", opt.URI, err)
	}
	if opt.Progress == nil {
		opt.Progress = io.Discard
	}
	d := &deployer{opt: opt, dial: (&net.Dialer{}).DialContext}
	if _, transport, _ := strings.Cut(u.Scheme, "+"); transport == "ssh" {
		if d.ssh, err = sshConnect(u); err != nil {
			return nil, fmt.Errorf("deploy: %s: %w", opt.URI, err)
		}
		socket := u.Query().Get("socket")
		if socket == "" {
			socket = libvirtSocket
		}
		d.l = libvirt.NewWithDialer(sshDialer{d.ssh, socket})
		if err := d.l.ConnectToURI(libvirt.RemoteURI(u)); err != nil {
			d.ssh.Close()
			return nil, fmt.Errorf("deploy: %s: %w", opt.URI, err)
		}
		d.dial = d.ssh.DialContext
		fmt.Fprintf(opt.Progress, "%-20s through the SSH connection to %s\n", "guests reached", u.Host)
		return d, nil
	}
	if d.l, err = libvirt.ConnectToURI(u); err != nil {
		return nil, fmt.Errorf("deploy: %s: %w", opt.URI, err)
	}
	return d, nil
}

func (d *deployer) close() {
	d.l.Disconnect()
	if d.ssh != nil {
		d.ssh.Close()
	}
}

// Deploy uploads the image, replaces the running deployment with it
// and checks its health; one that fails the check in time is replaced
// by the image before it, and Deploy says so in its error.
func Deploy(ctx context.Context, opt DeployOptions) (*Deployment, error) {
	if err := CheckBoot(opt.Boot); err != nil {
		return nil, err
	}
	d, err := connect(opt)
	if err != nil {
		return nil, err
	}
	defer d.close()
	if err := d.ensurePool(); err != nil {
		return nil, err
	}
	hash, err := imageHash(opt.Image)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(opt.Progress, "%-20s %s\n", "image", hash)
	for _, f := range []struct{ src, vol string }{
		{opt.Image.Kernel, d.volName(hash, "vmlinuz")},
		{opt.Image.Initramfs, d.volName(hash, "initramfs.gz")},
	} {
		if err := d.upload(f.src, f.vol, false); err != nil {
			return nil, err
		}
	}
	if opt.Image.StateDisk != "" {
		// made once; kept across deploys: certificates and keys
		if err := d.upload(opt.Image.StateDisk, d.opt.Name+"-state.img", true); err != nil {
			return nil, err
		}
	}
	history := append([]string{hash}, without(d.history(), hash)...)
	boots := d.boots()
	boots[hash] = opt.Boot
	dep, err := d.switchTo(ctx, history, boots, opt.Check, opt.HealthTimeout)
	if err != nil && len(history) > 1 {
		fmt.Fprintf(opt.Progress, "%-20s %v: rolling back to %s\n", "health check", err, history[1])
		// the image that ran before gets at least a minute
		back, berr := d.switchTo(ctx, history[1:], boots, opt.Alive, max(opt.HealthTimeout, time.Minute))
		if berr != nil {
			return nil, fmt.Errorf("deploy: %s failed its health check (%v), and so did the rollback to %s: %w", hash, err, history[1], berr)
		}
		return back, fmt.Errorf("deploy: %s failed its health check (%v); rolled back to %s", hash, err, history[1])
	}
	if err != nil {
		return dep, fmt.Errorf("deploy: %s failed its health check: %w", hash, err)
	}
	d.prune(history)
	return dep, nil
}

// CheckBoot refuses boot settings that are not one word each of the
// form islet.NAME=VALUE.
func CheckBoot(settings []string) error {
	for _, b := range settings {
		if name, _, ok := strings.Cut(b, "="); !ok || !strings.HasPrefix(name, "islet.") || len(name) == len("islet.") || strings.ContainsAny(b, " \t\n\r\\\"") {
			return fmt.Errorf("deploy: boot setting %q: one word islet.NAME=VALUE, no blanks or quotes", b)
		}
	}
	return nil
}

// Rollback starts the image deployed before the running one.
func Rollback(ctx context.Context, opt DeployOptions) (*Deployment, error) {
	d, err := connect(opt)
	if err != nil {
		return nil, err
	}
	defer d.close()
	if err := d.ensurePool(); err != nil {
		return nil, err
	}
	history := d.history()
	if len(history) < 2 {
		return nil, fmt.Errorf("deploy: %s has no earlier image to go back to", opt.Name)
	}
	return d.switchTo(ctx, append(history[1:], history[0]), d.boots(), opt.Alive, opt.HealthTimeout)
}

// Status says what runs.
func Status(ctx context.Context, opt DeployOptions) (*Deployment, error) {
	d, err := connect(opt)
	if err != nil {
		return nil, err
	}
	defer d.close()
	dom, err := d.l.DomainLookupByName(opt.Name)
	if err != nil {
		return nil, fmt.Errorf("deploy: %s: %w", opt.Name, err)
	}
	dep := &Deployment{Name: opt.Name, Images: d.history()}
	if len(dep.Images) > 0 {
		dep.Image = dep.Images[0]
	}
	state, _, err := d.l.DomainGetState(dom, 0)
	if err != nil {
		return nil, err
	}
	dep.State = domainState(state)
	if libvirt.DomainState(state) == libvirt.DomainRunning {
		dep.Addr, _ = d.address(dom)
		dep.Started = d.started()
		if opt.Report != nil && dep.Addr.IsValid() {
			opt.Report(ctx, dep, d.dial)
		}
	}
	return dep, nil
}

func domainState(s int32) string {
	switch libvirt.DomainState(s) {
	case libvirt.DomainRunning:
		return "running"
	case libvirt.DomainShutoff:
		return "shut off"
	case libvirt.DomainShutdown:
		return "shutting down"
	case libvirt.DomainPaused:
		return "paused"
	case libvirt.DomainCrashed:
		return "crashed"
	}
	return fmt.Sprintf("state %d", s)
}

// imageHash names an image by its kernel and initramfs.
func imageHash(r Result) (string, error) {
	h := sha256.New()
	for _, p := range []string{r.Kernel, r.Initramfs} {
		f, err := os.Open(p)
		if err != nil {
			return "", fmt.Errorf("deploy: %w", err)
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("deploy: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func (d *deployer) volName(hash, file string) string { return d.opt.Name + "-" + hash + "-" + file }

// ensurePool finds islet's storage pool, or makes it (a folder beside
// libvirt's default images).
func (d *deployer) ensurePool() error {
	p, err := d.l.StoragePoolLookupByName(deployPool)
	if err != nil {
		xmlDesc := `<pool type="dir"><name>` + deployPool + `</name><target><path>/var/lib/libvirt/images/` + deployPool + `</path></target></pool>`
		if p, err = d.l.StoragePoolDefineXML(xmlDesc, 0); err != nil {
			return fmt.Errorf("deploy: storage pool: %w", err)
		}
		if err := d.l.StoragePoolBuild(p, 0); err != nil {
			return fmt.Errorf("deploy: storage pool: %w", err)
		}
	}
	if active, err := d.l.StoragePoolIsActive(p); err == nil && active == 0 {
		if err := d.l.StoragePoolCreate(p, 0); err != nil {
			return fmt.Errorf("deploy: storage pool: %w", err)
		}
	}
	d.pool = p
	return nil
}

// upload makes the volume name from the file src, unless it exists and
// keep says to leave it (the state disk).
func (d *deployer) upload(src, name string, keep bool) error {
	if v, err := d.l.StorageVolLookupByName(d.pool, name); err == nil {
		if keep {
			return nil
		}
		d.l.StorageVolDelete(v, 0)
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	vol, err := d.l.StorageVolCreateXML(d.pool, fmt.Sprintf(`<volume><name>%s</name><capacity unit="bytes">%d</capacity><target><format type="raw"/></target></volume>`, xmlEscape(name), st.Size()), 0)
	if err != nil {
		return fmt.Errorf("deploy: volume %s: %w", name, err)
	}
	if err := d.l.StorageVolUpload(vol, f, 0, uint64(st.Size()), 0); err != nil {
		return fmt.Errorf("deploy: upload %s: %w", name, err)
	}
	fmt.Fprintf(d.opt.Progress, "%-20s %s (%d KiB)\n", "uploaded", name, st.Size()>>10)
	return nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// history is the images the domain's description lists, newest first.
func (d *deployer) history() []string {
	first, _, _ := strings.Cut(d.description(), "\n")
	rest, ok := strings.CutPrefix(strings.TrimSpace(first), imagesNote)
	if !ok {
		return nil
	}
	return strings.Fields(rest)
}

// started is when the running image was started, from the domain's
// description.
func (d *deployer) started() time.Time {
	for _, line := range strings.Split(d.description(), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), startedNote); ok {
			t, _ := time.Parse(time.RFC3339, strings.TrimSpace(v))
			return t
		}
	}
	return time.Time{}
}

// boots is the boot settings of each image kept, from the domain's
// description.
func (d *deployer) boots() map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(d.description(), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == bootNote {
			out[f[1]] = f[2:]
		}
	}
	return out
}

// description is the domain's description: the images deployed, newest
// first, when the first was started, and each image's boot settings.
func (d *deployer) description() string {
	dom, err := d.l.DomainLookupByName(d.opt.Name)
	if err != nil {
		return ""
	}
	desc, err := d.l.DomainGetXMLDesc(dom, libvirt.DomainXMLInactive)
	if err != nil {
		return ""
	}
	var x struct {
		Description string `xml:"description"`
	}
	if xml.Unmarshal([]byte(desc), &x) != nil {
		return ""
	}
	return x.Description
}

// switchTo makes history[0] the image the domain runs: the running one
// is shut down, the domain defined again and started, and its health
// checked.
func (d *deployer) switchTo(ctx context.Context, history []string, boots map[string][]string, check func(context.Context, netip.Addr, Dial) error, timeout time.Duration) (*Deployment, error) {
	hash := history[0]
	path := func(file string) (string, error) {
		v, err := d.l.StorageVolLookupByName(d.pool, file)
		if err != nil {
			return "", fmt.Errorf("deploy: image %s: %s is gone: %w", hash, file, err)
		}
		return d.l.StorageVolGetPath(v)
	}
	kernel, err := path(d.volName(hash, "vmlinuz"))
	if err != nil {
		return nil, err
	}
	initrd, err := path(d.volName(hash, "initramfs.gz"))
	if err != nil {
		return nil, err
	}
	state, _ := path(d.opt.Name + "-state.img")
	if len(history) > keepImages {
		history = history[:keepImages]
	}
	var dom libvirtDomain
	raw, err := libvirtXML("", kernel, initrd, state)
	if err != nil {
		return nil, err
	}
	xml.Unmarshal(raw, &dom)
	dom.Name = d.opt.Name
	started := time.Now().UTC().Truncate(time.Second)
	dom.Description = imagesNote + " " + strings.Join(history, " ") + "\n" + startedNote + " " + started.Format(time.RFC3339)
	for _, h := range history {
		if len(boots[h]) > 0 {
			dom.Description += "\n" + bootNote + " " + h + " " + strings.Join(boots[h], " ")
		}
	}
	if b := boots[hash]; len(b) > 0 {
		dom.OS.Cmdline += " " + strings.Join(b, " ")
	}
	dom.Type = d.virtType()
	if old, err := d.l.DomainLookupByName(d.opt.Name); err == nil {
		u := old.UUID // defined again: the same domain
		dom.UUID = fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	}
	out, err := xml.Marshal(dom)
	if err != nil {
		return nil, err
	}
	if err := d.stop(ctx); err != nil {
		return nil, err
	}
	def, err := d.l.DomainDefineXML(string(out))
	if err != nil {
		return nil, fmt.Errorf("deploy: define %s: %w", d.opt.Name, err)
	}
	if err := d.l.DomainCreate(def); err != nil {
		return nil, fmt.Errorf("deploy: start %s: %w", d.opt.Name, err)
	}
	fmt.Fprintf(d.opt.Progress, "%-20s %s, image %s\n", "started", d.opt.Name, hash)
	dep := &Deployment{Name: d.opt.Name, Image: hash, Images: history, State: "running", Started: started}
	if timeout <= 0 {
		timeout = time.Minute
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if addr, err := d.address(def); err != nil {
			last = err
		} else {
			dep.Addr = addr
			if check == nil {
				return dep, nil
			}
			if last = check(hctx, addr, d.dial); last == nil {
				fmt.Fprintf(d.opt.Progress, "%-20s %s answers\n", "healthy", addr)
				return dep, nil
			}
		}
		select {
		case <-hctx.Done():
			return dep, fmt.Errorf("not healthy within %v: %w", timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// virtType is kvm where the host has it, else qemu (TCG).
func (d *deployer) virtType() string {
	if _, err := d.l.ConnectGetDomainCapabilities(nil, libvirt.OptString{"x86_64"}, nil, libvirt.OptString{"kvm"}, 0); err == nil {
		return "kvm"
	}
	return "qemu"
}

// stop shuts the running deployment down with the power button, and
// pulls the plug after a minute.
func (d *deployer) stop(ctx context.Context) error {
	dom, err := d.l.DomainLookupByName(d.opt.Name)
	if err != nil {
		return nil // none yet
	}
	running := func() bool {
		s, _, err := d.l.DomainGetState(dom, 0)
		return err == nil && libvirt.DomainState(s) != libvirt.DomainShutoff
	}
	if !running() {
		return nil
	}
	d.l.DomainShutdown(dom)
	deadline := time.Now().Add(time.Minute)
	for running() {
		if time.Now().After(deadline) {
			if err := d.l.DomainDestroy(dom); err != nil {
				return fmt.Errorf("deploy: stop %s: %w", d.opt.Name, err)
			}
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	fmt.Fprintf(d.opt.Progress, "%-20s %s\n", "stopped", d.opt.Name)
	return nil
}

// address is the IPv4 address the domain leased.
func (d *deployer) address(dom libvirt.Domain) (netip.Addr, error) {
	ifaces, err := d.l.DomainInterfaceAddresses(dom, uint32(libvirt.DomainInterfaceAddressesSrcLease), 0)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, i := range ifaces {
		for _, a := range i.Addrs {
			if ip, err := netip.ParseAddr(a.Addr); err == nil && ip.Is4() {
				return ip, nil
			}
		}
	}
	return netip.Addr{}, errors.New("no address leased yet")
}

// prune deletes the volumes of images no longer in history.
func (d *deployer) prune(history []string) {
	keep := map[string]bool{d.opt.Name + "-state.img": true}
	for _, h := range history[:min(len(history), keepImages)] {
		keep[d.volName(h, "vmlinuz")], keep[d.volName(h, "initramfs.gz")] = true, true
	}
	vols, _, err := d.l.StoragePoolListAllVolumes(d.pool, 1, 0)
	if err != nil {
		return
	}
	for _, v := range vols {
		if imageVolume(d.opt.Name, v.Name) && !keep[v.Name] {
			d.l.StorageVolDelete(v, 0)
		}
	}
}

// imageVolume says whether vol holds an image of the deployment name
// (NAME-HASH-vmlinuz or NAME-HASH-initramfs.gz): not another
// deployment's whose name starts alike ("web" and "web-2").
func imageVolume(name, vol string) bool {
	rest, ok := strings.CutPrefix(vol, name+"-")
	if !ok {
		return false
	}
	hash, file, ok := strings.Cut(rest, "-")
	if !ok || len(hash) != 12 || (file != "vmlinuz" && file != "initramfs.gz") {
		return false
	}
	_, err := hex.DecodeString(hash)
	return err == nil
}
