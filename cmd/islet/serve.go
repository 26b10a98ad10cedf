package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"islet.dev/islet/appliance"
	"islet.dev/islet/tls/certs"
	"islet.dev/islet/tls/web"
	"islet.dev/islet/zones"
)

const letsEncryptDefault = certs.LetsEncrypt

// serveFlags are the boot-time settings shared by "serve" and "run".
type serveFlags struct {
	dns              string
	minimal          bool
	ednsSize         int
	nsid             string
	chaos            bool
	identity         string
	cookieSecret     string
	tcpIdle          time.Duration
	tcpMaxConns      int
	tcpClientConns   int
	httpsClientConns int
	clientPrefix     string
	udpSockets       int
	logLevel         string
	tsigKeys         listFlag
	tsigKeysFile     string
	allowTransfer    listFlag
	notify           listFlag
	notifyNS         bool
	secondaryDir     string
	secondaries      listFlag
	catalog          string
	rrl              int
	rrlExempt        listFlag
	rrlLog           bool
	metrics          string
	dnssecKeys       string
	dnssecAlgorithm  string
	dnssecDenial     string

	site          string
	siteSrc       string
	siteInclude   string
	http          string
	https         string
	hosts         string
	redirects     redirectFlags
	defaultHost   string
	acmeDirectory string
	acmeStaging   bool
	acmeCA        string
	acmeEmail     string
	certCache     string
	tlsCert       string
	tlsKey        string
	httpsMaxConns int

	net         string
	ipv4        string
	ipv4Gateway string
	ipv6        string
	ipv6Gateway string
	pcap        string
	sendMemory  string
	resolver    string
}

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// redirectFlags collects repeated --redirect FROM=URL flags.
type redirectFlags []web.Host

func (r *redirectFlags) String() string { return "" }

func (r *redirectFlags) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("want NAME[,NAME...]=URL")
	}
	*r = append(*r, web.Host{Names: strings.Split(from, ","), Redirect: to})
	return nil
}

const letsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dns, "dns", "127.0.0.1:5353", "`ADDR`s to serve DNS on, UDP and TCP, comma-separated (e.g. 192.0.2.1:53,[2001:db8::1]:53)")
	fs.BoolVar(&f.minimal, "minimal", false, "minimal responses: no NS RRset and addresses in positive answers")
	fs.IntVar(&f.ednsSize, "edns-size", 1232, "largest EDNS(0) UDP response, 512..4096")
	fs.StringVar(&f.nsid, "nsid", "", "name server identifier returned to NSID queries (RFC 5001); empty: off")
	fs.BoolVar(&f.chaos, "chaos", false, "answer CHAOS TXT id.server and version.bind")
	fs.StringVar(&f.identity, "identity", "", "identity for CHAOS id.server (default: the host name)")
	fs.StringVar(&f.cookieSecret, "cookie-secret", "", "32 hex digits keying DNS cookies; share it between anycast servers (default: random)")
	fs.DurationVar(&f.tcpIdle, "tcp-idle-timeout", 10*time.Second, "close idle DNS TCP connections after this long")
	fs.IntVar(&f.tcpMaxConns, "tcp-max-conns", 512, "most concurrent DNS TCP connections; when reached, a new client's connection is taken from the client holding the most")
	fs.IntVar(&f.tcpClientConns, "tcp-client-conns", 0, "most concurrent DNS TCP connections of one client (`N`; default: an eighth of --tcp-max-conns, 8 to 64)")
	fs.StringVar(&f.clientPrefix, "client-prefix", "32,64", "what one client is, for the per-client limits: `V4,V6` prefix lengths (32,64: an IPv4 address, an IPv6 /64)")
	fs.IntVar(&f.udpSockets, "udp-sockets", 0, "UDP sockets (SO_REUSEPORT) for DNS; 0: one per core")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.Var(&f.tsigKeys, "tsig-key", "TSIG key `[ALG:]NAME:SECRET` (dig -y's form; ALG hmac-sha256 unless hmac-sha512, -sha384, -sha224 or -sha1) that requests may be signed with (repeatable)")
	fs.StringVar(&f.tsigKeysFile, "tsig-keys", "", "`FILE` of --tsig-key values, one a line (mode 600)")
	fs.Var(&f.allowTransfer, "allow-transfer", "`PREFIX[@KEYNAME]` that may transfer the zones (AXFR, IXFR), signing with KEYNAME when given (repeatable; none: no transfers)")
	fs.Var(&f.notify, "notify", "secondary `ADDR:PORT[@KEYNAME]` sent a NOTIFY, signed with KEYNAME when given, whenever a zone loads (repeatable)")
	fs.Var(&f.secondaries, "secondary", "`ZONE=ADDR:PORT[@KEYNAME]`: follow ZONE from the primary at ADDR:PORT, transfers signed with KEYNAME when given (repeatable)")
	fs.StringVar(&f.secondaryDir, "secondary-dir", "", "`DIR` keeping what transfers need across restarts: the zones followed with --secondary, and the zones' history, so that secondaries get IXFR after one (default: in memory)")
	fs.StringVar(&f.catalog, "catalog", "", "publish a catalog zone `NAME` (RFC 9432) listing the zones of --zones, for secondaries that take catalogs (Knot, BIND)")
	fs.IntVar(&f.rrl, "rrl", zones.DefaultRRLRate, "response-rate limit over UDP: `N` responses a second of 512 octets for each client /24 (IPv6 /56), larger ones costing more; past it every second response goes out truncated (TC) and the others are dropped; TCP, loopback and clients with a valid DNS cookie are exempt; 0: off")
	fs.Var(&f.rrlExempt, "rrl-exempt", "`PREFIX` never rate-limited (repeatable)")
	fs.BoolVar(&f.rrlLog, "rrl-log", false, "log the client prefixes rate-limited, every 30 s")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (host:port): GET /metrics, /healthz and /readyz; off when empty")
	fs.StringVar(&f.dnssecKeys, "dnssec-keys", "", "sign every zone whose file has no DNSKEY with the DNSSEC keys in `DIR` (BIND's K*.key and .private files), made there when a zone has none")
	fs.StringVar(&f.dnssecAlgorithm, "dnssec-algorithm", "ecdsap256sha256", "`ALG` of the DNSSEC keys made: ecdsap256sha256 or ed25519")
	fs.StringVar(&f.dnssecDenial, "dnssec-denial", "nsec", "how signed zones deny names: nsec, nsec3 (no salt, no iterations: RFC 9276), or compact (RFC 9824: signed per query, at a bounded rate; no transfers)")
	fs.BoolVar(&f.notifyNS, "notify-ns", true, "NOTIFY the zones' own name servers too (their addresses in the zone), when transfers are allowed")

	fs.StringVar(&f.site, "site", "", "`DIR` of a rendered site to serve over HTTPS")
	fs.StringVar(&f.siteInclude, "site-include", "", "`NAMES` (comma-separated paths, names or globs) of dotfiles, and of _ names in a tree that looks like a Jekyll source, that --site serves nonetheless (as Jekyll's include:); .well-known always is")
	fs.StringVar(&f.siteSrc, "site-src", "", "Jekyll source `DIR` to render and serve over HTTPS (instead of --site)")
	fs.StringVar(&f.http, "http", "127.0.0.1:8080", "`ADDR` for plain HTTP: ACME HTTP-01 and redirects to HTTPS; empty: off")
	fs.StringVar(&f.https, "https", "127.0.0.1:8443", "`ADDR` to serve HTTPS on")
	fs.StringVar(&f.hosts, "hosts", "", "`NAMES` (comma-separated) that serve the site; default: the apex of each zone")
	fs.Var(&f.redirects, "redirect", "`FROM=URL`: names (comma-separated) that redirect to URL, path and query kept (repeatable)")
	fs.StringVar(&f.defaultHost, "default-host", "", "host `NAME` that answers requests for unknown names (default: 421)")
	fs.StringVar(&f.acmeDirectory, "acme-directory", letsEncryptDefault, "ACME directory `URL` for certificates; \"off\": self-signed")
	fs.BoolVar(&f.acmeStaging, "acme-staging", false, "use Let's Encrypt's staging directory")
	fs.StringVar(&f.acmeCA, "acme-ca", "", "PEM `FILE` of roots to trust when talking to the ACME server")
	fs.StringVar(&f.acmeEmail, "acme-email", "", "contact `ADDR` for the ACME account")
	fs.StringVar(&f.certCache, "cert-cache", "", "`DIR` keeping the ACME account and certificates across restarts")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "certificate chain `FILE` (PEM) to serve instead of ACME")
	fs.StringVar(&f.tlsKey, "tls-key", "", "private key `FILE` (PEM) of --tls-cert")
	fs.IntVar(&f.httpsMaxConns, "https-max-conns", 0, "most concurrent connections to HTTPS, and to HTTP apart; when reached, a new client's connection is taken from the client holding the most (`N`; default: one per MiB of memory)")
	fs.IntVar(&f.httpsClientConns, "https-client-conns", 0, "most concurrent connections of one client to HTTPS, and to HTTP apart (`N`; default: an eighth of --https-max-conns, 8 to 64)")

	fs.StringVar(&f.net, "net", "host", "network: host (the kernel's sockets), tap:NAME or packet:IFNAME (the userspace stack on that link; listen addresses then keep only their port)")
	fs.StringVar(&f.ipv4, "ipv4", "", "`ADDR/LEN` of the userspace stack, e.g. 10.0.0.2/24, or none (IPv6 only); without it, DHCP")
	fs.StringVar(&f.ipv4Gateway, "ipv4-gateway", "", "IPv4 default gateway `ADDR` of the userspace stack")
	fs.StringVar(&f.ipv6, "ipv6", "", "`ADDR/LEN` of the userspace stack (static)")
	fs.StringVar(&f.ipv6Gateway, "ipv6-gateway", "", "IPv6 default gateway `ADDR` of the userspace stack")
	fs.StringVar(&f.resolver, "resolver", "", "DNS server `ADDR` the userspace stack looks names up at for its own connections (ACME); default: DHCP's")
	fs.StringVar(&f.pcap, "pcap", "", "write every frame of the userspace stack's link to `FILE` (pcap, Ethernet)")
	fs.StringVar(&f.sendMemory, "tcp-send-memory", "", "most the userspace stack's TCP connections may hold to send, e.g. 32M (`SIZE`); default: a quarter of the memory")
}

// netOptions parses the network flags.
func (f *serveFlags) netOptions() (appliance.NetOptions, error) {
	o := appliance.NetOptions{Net: f.net, PCAP: f.pcap}
	var err error
	for _, p := range []struct {
		flag, v string
		dst     *netip.Prefix
	}{{"--ipv4", f.ipv4, &o.IPv4}, {"--ipv6", f.ipv6, &o.IPv6}} {
		if p.v == "" {
			continue
		}
		if p.flag == "--ipv4" && p.v == "none" {
			o.NoIPv4 = true
			continue
		}
		if *p.dst, err = netip.ParsePrefix(p.v); err != nil {
			return o, fmt.Errorf("%s: %w", p.flag, err)
		}
	}
	for _, a := range []struct {
		flag, v string
		dst     *netip.Addr
	}{{"--ipv4-gateway", f.ipv4Gateway, &o.IPv4Gateway}, {"--ipv6-gateway", f.ipv6Gateway, &o.IPv6Gateway}, {"--resolver", f.resolver, &o.Resolver}} {
		if a.v == "" {
			continue
		}
		if *a.dst, err = netip.ParseAddr(a.v); err != nil {
			return o, fmt.Errorf("%s: %w", a.flag, err)
		}
	}
	if f.sendMemory != "" {
		if o.TCPSendMemory, err = parseSize(f.sendMemory); err != nil || o.TCPSendMemory == 0 {
			return o, fmt.Errorf("--tcp-send-memory: %q is not a size above 0 (32M, 512K)", f.sendMemory)
		}
	}
	return o, nil
}

// httpsOptions turns the HTTPS flags into appliance options.
func (f *serveFlags) httpsOptions() appliance.HTTPSOptions {
	o := appliance.HTTPSOptions{
		SiteDir: f.site, DefaultHost: f.defaultHost,
		SiteInclude: splitList(f.siteInclude),
		HTTPAddr:    f.http, HTTPSAddr: f.https,
		ACMEDirectory: f.acmeDirectory, ACMEEmail: f.acmeEmail, ACMECAFile: f.acmeCA,
		CertCache: f.certCache, TLSCert: f.tlsCert, TLSKey: f.tlsKey,
		MaxConns: f.httpsMaxConns, ClientConns: f.httpsClientConns,
	}
	if f.acmeStaging {
		o.ACMEDirectory = letsEncryptStaging
	}
	if f.hosts != "" {
		o.Hosts = append(o.Hosts, web.Host{Names: strings.Split(f.hosts, ","), Site: true})
	}
	o.Hosts = append(o.Hosts, f.redirects...)
	return o
}

// options turns the flags into appliance options.
func (f *serveFlags) options(zonesDir string, stderr io.Writer) (appliance.Options, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return appliance.Options{}, fmt.Errorf("--log-level: %w", err)
	}
	opt := appliance.Options{
		ZonesDir:   zonesDir,
		DNSAddrs:   strings.Split(f.dns, ","),
		UDPSockets: f.udpSockets,
		Logger:     slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})),
	}
	opt.HTTPS = f.httpsOptions()
	opt.JournalDir = f.secondaryDir
	opt.Catalog = f.catalog
	if f.httpsMaxConns < 0 {
		return opt, fmt.Errorf("--https-max-conns: %d is below 0 (0: from the memory)", f.httpsMaxConns)
	}
	if f.siteSrc != "" && f.site != "" {
		return opt, fmt.Errorf("--site and --site-src: give one")
	}
	netOpt, err := f.netOptions()
	if err != nil {
		return opt, err
	}
	opt.Net = netOpt
	opt.DNS.Minimal = f.minimal
	opt.DNS.MaxUDPSize = f.ednsSize
	opt.DNS.NSID = f.nsid
	opt.DNS.Chaos = f.chaos
	opt.DNS.Identity = f.identity
	opt.DNS.Version = "islet"
	opt.DNS.TCPIdleTimeout = f.tcpIdle
	opt.DNS.TCPMaxConns = f.tcpMaxConns
	opt.DNS.TCPClientConns = f.tcpClientConns
	v4, v6, err := parseClientPrefix(f.clientPrefix)
	if err != nil {
		return opt, err
	}
	opt.DNS.ClientIPv4Bits, opt.DNS.ClientIPv6Bits = v4, v6
	opt.HTTPS.ClientIPv4Bits, opt.HTTPS.ClientIPv6Bits = v4, v6
	for _, c := range []struct {
		flag string
		n    int
	}{{"--tcp-client-conns", f.tcpClientConns}, {"--https-client-conns", f.httpsClientConns}} {
		if c.n < 0 {
			return opt, fmt.Errorf("%s: %d is below 0 (0: the default)", c.flag, c.n)
		}
	}
	if opt.DNS.Identity == "" {
		opt.DNS.Identity, _ = os.Hostname()
	}
	if err := f.transferOptions(&opt.DNS); err != nil {
		return opt, err
	}
	if opt.Secondaries, err = f.secondaryOptions(); err != nil {
		return opt, err
	}
	if opt.DNS.Signer, err = f.signer(); err != nil {
		return opt, err
	}
	if f.rrl < 0 {
		return opt, fmt.Errorf("--rrl: %d is below 0 (0: off)", f.rrl)
	}
	if f.metrics != "" {
		if _, _, err := net.SplitHostPort(f.metrics); err != nil {
			return opt, fmt.Errorf("--metrics: %w", err)
		}
		opt.MetricsAddr = f.metrics
	}
	opt.DNS.RRL.Rate = f.rrl
	if f.rrlLog {
		opt.RRLLog = 30 * time.Second
	}
	for _, v := range f.rrlExempt {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			if a, aerr := netip.ParseAddr(v); aerr == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return opt, fmt.Errorf("--rrl-exempt: %w", err)
			}
		}
		opt.DNS.RRL.Exempt = append(opt.DNS.RRL.Exempt, p.Masked())
	}
	if f.cookieSecret != "" {
		b, err := hex.DecodeString(f.cookieSecret)
		if err != nil || len(b) != 16 {
			return opt, fmt.Errorf("--cookie-secret: want 32 hex digits")
		}
		copy(opt.DNS.CookieSecret[:], b)
	}
	return opt, nil
}

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("islet serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	zonesDir := fs.String("zones", "", "`DIR` of zone files to serve")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the whole run to `FILE` (for go tool pprof)")
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || *zonesDir == "" && f.site == "" && f.siteSrc == "" && len(f.redirects) == 0 && len(f.secondaries) == 0 {
		fmt.Fprintln(stderr, "islet serve: give --zones DIR, --secondary ZONE=ADDR:PORT, --site DIR, --site-src DIR or --redirect FROM=URL (and no arguments)")
		return 2
	}
	opt, err := f.options(*zonesDir, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "islet serve: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.siteSrc != "" {
		rendered, code := renderForServing(ctx, "islet serve", f.siteSrc, opt.Logger, stderr)
		if rendered == nil {
			return code
		}
		defer rendered.Close()
		opt.HTTPS.SiteFS = rendered.FS()
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		fmt.Fprintf(stderr, "islet serve: --cpu-profile: %v\n", err)
		return 2
	}
	defer stopProfile()
	return serveUntilSignal(ctx, opt, stdout, stderr)
}

// forwardReloads turns signals on hup into reload requests until ctx
// ends; done is closed when it has stopped.
func forwardReloads(ctx context.Context, hup <-chan os.Signal) (reload <-chan struct{}, done <-chan struct{}) {
	r, d := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(d)
		for {
			select {
			case <-hup:
			case <-ctx.Done():
				return
			}
			select {
			case r <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return r, d
}

// renderForServing renders a Jekyll source until ctx ends (Ctrl-C stops
// a long render); on failure it says why and returns the exit code.
func renderForServing(ctx context.Context, cmd, dir string, log *slog.Logger, stderr io.Writer) (appliance.RenderedSite, int) {
	rendered, err := appliance.RenderSite(ctx, dir, false, log)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "%s: interrupted\n", cmd)
		return nil, 1
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return nil, 1
	}
	return rendered, 0
}

// serveUntilSignal runs the appliance until ctx ends (SIGINT or
// SIGTERM), reloading on SIGHUP, and prints how to reach it once it
// listens.
func serveUntilSignal(ctx context.Context, opt appliance.Options, stdout, stderr io.Writer) int {
	return serveUntilSignalWith(ctx, opt, stdout, stderr, appliance.Run)
}

// serveUntilSignalWith is serveUntilSignal running the appliance with
// run.
func serveUntilSignalWith(ctx context.Context, opt appliance.Options, stdout, stderr io.Writer, run func(context.Context, appliance.Options) error) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload, _ := forwardReloads(ctx, hup)
	opt.Reload = reload
	opt.Ready = func(r appliance.Ready) { printReady(stdout, r) }
	if err := run(ctx, opt); err != nil {
		fmt.Fprintf(stderr, "islet: %v\n", err)
		return 1
	}
	return 0
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseClientPrefix reads --client-prefix: "V4,V6" prefix lengths.
func parseClientPrefix(v string) (int, int, error) {
	a, b, ok := strings.Cut(v, ",")
	v4, err4 := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(a), "/"))
	v6, err6 := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(b), "/"))
	if !ok || err4 != nil || err6 != nil || v4 < 1 || v4 > 32 || v6 < 1 || v6 > 128 {
		return 0, 0, fmt.Errorf("--client-prefix: %q is not V4,V6 prefix lengths (1..32,1..128), e.g. 32,64", v)
	}
	return v4, v6, nil
}

// transferOptions reads the TSIG keys, transfer ACLs and NOTIFY targets.
func (f *serveFlags) transferOptions(c *zones.Config) error {
	for _, v := range f.tsigKeys {
		k, err := zones.ParseTSIGKey(v)
		if err != nil {
			return fmt.Errorf("--tsig-key: %w", err)
		}
		c.TSIGKeys = append(c.TSIGKeys, k)
	}
	if f.tsigKeysFile != "" {
		keys, err := zones.ReadTSIGKeys(f.tsigKeysFile)
		if err != nil {
			return fmt.Errorf("--tsig-keys: %w", err)
		}
		c.TSIGKeys = append(c.TSIGKeys, keys...)
	}
	for _, v := range f.allowTransfer {
		a, err := zones.ParseTransferACL(v)
		if err != nil {
			return fmt.Errorf("--allow-transfer: %w", err)
		}
		c.AllowTransfer = append(c.AllowTransfer, a)
	}
	for _, v := range f.notify {
		n, err := zones.ParseNotifyTarget(v)
		if err != nil {
			return fmt.Errorf("--notify: %w", err)
		}
		c.Notify = append(c.Notify, n)
	}
	c.NotifyNS = f.notifyNS
	return nil
}

// secondaryOptions reads the --secondary flags.
func (f *serveFlags) secondaryOptions() ([]zones.Secondary, error) {
	var out []zones.Secondary
	for _, v := range f.secondaries {
		s, err := zones.ParseSecondary(v)
		if err != nil {
			return nil, fmt.Errorf("--secondary: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// signer reads the --dnssec flags: nil without --dnssec-keys.
func (f *serveFlags) signer() (*zones.Signer, error) {
	alg, err := zones.ParseAlgorithm(f.dnssecAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("--dnssec-algorithm: %w", err)
	}
	denial, err := zones.ParseDenial(f.dnssecDenial)
	if err != nil {
		return nil, fmt.Errorf("--dnssec-denial: %w", err)
	}
	if f.dnssecKeys == "" {
		return nil, nil
	}
	ks, err := zones.OpenKeyStore(f.dnssecKeys, alg)
	if err != nil {
		return nil, fmt.Errorf("--dnssec-keys: %w", err)
	}
	return zones.NewSigner(ks, zones.SignOptions{Denial: denial}), nil
}
