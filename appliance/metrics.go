package appliance

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"islet.dev/islet/zones"
)

// The series an appliance exposes. Their names are fixed: dashboards
// and alerts rely on them. Every label is bounded: a zone is a served
// zone or "other", a type one of dnsTypes or "other", a host a
// configured name or "other", never what a client sent.
const (
	mDNSRequests   = "islet_dns_requests_total"
	mDNSResponses  = "islet_dns_responses_total"
	mDNSDuration   = "islet_dns_request_duration_seconds"
	mRRLActions    = "islet_dns_rrl_actions_total"
	mTransfersOut  = "islet_dns_transfers_total"
	mRefreshes     = "islet_dns_secondary_refreshes_total"
	mZoneSerial    = "islet_zone_serial"
	mHTTPRequests  = "islet_http_requests_total"
	mHTTPDuration  = "islet_http_request_duration_seconds"
	mCertNotAfter  = "islet_tls_certificate_not_after_timestamp_seconds"
	mACMEOrders    = "islet_acme_orders_total"
	mBuildInfo     = "islet_build_info"
	mNetstackStart = "islet_netstack_"
)

// dnsTypes are the query types counted by name; the rest are "other".
var dnsTypes = []struct {
	num  uint16
	name string
}{
	{1, "A"}, {28, "AAAA"}, {2, "NS"}, {6, "SOA"}, {5, "CNAME"}, {39, "DNAME"}, {15, "MX"}, {16, "TXT"}, {12, "PTR"},
	{33, "SRV"}, {35, "NAPTR"}, {257, "CAA"}, {52, "TLSA"}, {64, "SVCB"}, {65, "HTTPS"}, {43, "DS"}, {48, "DNSKEY"},
	{46, "RRSIG"}, {47, "NSEC"}, {50, "NSEC3"}, {51, "NSEC3PARAM"}, {59, "CDS"}, {60, "CDNSKEY"}, {255, "ANY"},
	{252, "AXFR"}, {251, "IXFR"},
}

// dnsRcodes are the rcodes counted by name; the rest are "other".
var dnsRcodes = []string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
	9: "NOTAUTH", 16: "BADVERS"}

// Buckets of the duration histograms, in seconds: a DNS answer takes
// microseconds, an HTTP response up to a large download's minutes.
var (
	dnsBuckets  = []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1, 1}
	httpBuckets = []float64{1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 10, 60}
)

// registry holds an appliance's metrics and is the DNS server's
// zones.Observer. Counters are made the first time they count, so that
// the exposition holds only series that happened.
type registry struct {
	set     *metrics.Set
	typeIdx [256]uint8 // query type → index into dnsTypes+1 (0: other)
	dnsDur  *metrics.PrometheusHistogram
	httpDur *metrics.PrometheusHistogram
	rrl     [3]*metrics.Counter // by zones.RRLAction; [RRLPassed] unused

	zmu   sync.Mutex
	zones atomic.Pointer[map[string]*zoneSeries] // by origin

	hmu      sync.Mutex
	hosts    map[string]string // configured name → its label
	wildcard []string          // configured "*.x" names
	http     map[httpKey]*metrics.Counter

	other  *zoneSeries // queries outside every served zone
	onScan []func()    // refresh the gauges and copied counters
	ready  atomic.Bool
}

type zoneSeries struct {
	label string
	req   [2][]atomic.Pointer[metrics.Counter] // [tcp][type index]
	resp  []atomic.Pointer[metrics.Counter]    // [rcode], "other" past the end
}

type httpKey struct {
	host string
	code int
}

func newRegistry() *registry {
	r := &registry{set: metrics.NewSet(), http: map[httpKey]*metrics.Counter{}, hosts: map[string]string{}}
	for i, t := range dnsTypes {
		if t.num < 256 {
			r.typeIdx[t.num] = uint8(i + 1)
		}
	}
	r.dnsDur = r.set.NewPrometheusHistogramExt(mDNSDuration, dnsBuckets)
	r.httpDur = r.set.NewPrometheusHistogramExt(mHTTPDuration, httpBuckets)
	r.rrl[zones.RRLSlipped] = r.set.NewCounter(mRRLActions + `{action="slip"}`)
	r.rrl[zones.RRLDropped] = r.set.NewCounter(mRRLActions + `{action="drop"}`)
	r.other = newZoneSeries("other")
	m := map[string]*zoneSeries{}
	r.zones.Store(&m)
	version, vcs := "(devel)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		version = info.Main.Version
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				vcs = s.Value
			}
		}
	}
	r.set.NewGauge(fmt.Sprintf(`%s{version=%s,revision=%s}`, mBuildInfo, quote(version), quote(vcs)), func() float64 { return 1 })
	return r
}

func newZoneSeries(label string) *zoneSeries {
	n := len(dnsTypes) + 1
	return &zoneSeries{label: label, req: [2][]atomic.Pointer[metrics.Counter]{make([]atomic.Pointer[metrics.Counter], n),
		make([]atomic.Pointer[metrics.Counter], n)}, resp: make([]atomic.Pointer[metrics.Counter], len(dnsRcodes)+1)}
}

// quote makes a label value of s, escaped as the text format wants.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// zoneLabel is how a zone's origin reads in a label: without the final
// dot, but for the root.
func zoneLabel(origin string) string {
	if origin == "." {
		return origin
	}
	return strings.TrimSuffix(origin, ".")
}

// series returns the counters of zone, made on first use. The origin
// is that of a served zone, so their number is bounded by the zones.
func (r *registry) series(origin string) *zoneSeries {
	if origin == "" {
		return r.other
	}
	if z, ok := (*r.zones.Load())[origin]; ok {
		return z
	}
	r.zmu.Lock()
	defer r.zmu.Unlock()
	old := *r.zones.Load()
	if z, ok := old[origin]; ok {
		return z
	}
	m := make(map[string]*zoneSeries, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	z := newZoneSeries(zoneLabel(origin))
	m[origin] = z
	r.zones.Store(&m)
	return z
}

func (r *registry) typeIndex(t uint16) int {
	if t < 256 {
		return int(r.typeIdx[t])
	}
	for i, x := range dnsTypes {
		if x.num == t {
			return i + 1
		}
	}
	return 0
}

// typeName is the label of a query type.
func typeName(t uint16) string {
	for _, x := range dnsTypes {
		if x.num == t {
			return x.name
		}
	}
	return "other"
}

// rcodeName is the label of an rcode.
func rcodeName(rc int) string {
	if rc >= 0 && rc < len(dnsRcodes) && dnsRcodes[rc] != "" {
		return dnsRcodes[rc]
	}
	return "other"
}

// counter returns the counter in slot, making it on first use.
func (r *registry) counter(slot *atomic.Pointer[metrics.Counter], name func() string) *metrics.Counter {
	if c := slot.Load(); c != nil {
		return c
	}
	c := r.set.GetOrCreateCounter(name())
	slot.Store(c)
	return c
}

// Query counts one DNS query (zones.Observer).
func (r *registry) Query(ev zones.QueryEvent) {
	z := r.series(ev.Zone)
	tcp := 0
	if ev.TCP {
		tcp = 1
	}
	ti := r.typeIndex(ev.Type)
	r.counter(&z.req[tcp][ti], func() string {
		proto := "udp"
		if ev.TCP {
			proto = "tcp"
		}
		typ := "other"
		if ti > 0 {
			typ = dnsTypes[ti-1].name
		}
		return fmt.Sprintf(`%s{zone=%s,proto="%s",type="%s"}`, mDNSRequests, quote(z.label), proto, typ)
	}).Inc()
	if ev.RRL != zones.RRLPassed {
		r.rrl[ev.RRL].Inc()
	}
	if ev.Rcode >= 0 && ev.RRL != zones.RRLDropped {
		ri := ev.Rcode
		if rcodeName(ri) == "other" {
			ri = len(dnsRcodes)
		}
		r.counter(&z.resp[ri], func() string {
			return fmt.Sprintf(`%s{zone=%s,rcode="%s"}`, mDNSResponses, quote(z.label), rcodeName(ev.Rcode))
		}).Inc()
	}
	r.dnsDur.Update(ev.Duration.Seconds())
}

// Transfer counts one zone transfer asked for (zones.Observer).
func (r *registry) Transfer(ev zones.TransferEvent) {
	label := "other"
	if ev.Zone != "" {
		label = zoneLabel(ev.Zone)
	}
	r.set.GetOrCreateCounter(fmt.Sprintf(`%s{zone=%s,type="%s",result="%s"}`, mTransfersOut, quote(label),
		typeName(ev.Type), ev.Result)).Inc()
}

// Refresh counts one refresh of a secondary zone (zones.Observer).
func (r *registry) Refresh(zone string, result zones.RefreshResult) {
	r.set.GetOrCreateCounter(fmt.Sprintf(`%s{zone=%s,result="%s"}`, mRefreshes, quote(zoneLabel(zone)), result)).Inc()
}

// setHosts names the HTTPS hosts requests are counted under.
func (r *registry) setHosts(names []string) {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if strings.HasPrefix(n, "*.") {
			r.wildcard = append(r.wildcard, n)
		}
		r.hosts[n] = n
	}
}

// hostLabel is the configured name host falls under, or "other".
func (r *registry) hostLabel(host string) string {
	if l, ok := r.hosts[host]; ok {
		return l
	}
	if _, parent, ok := strings.Cut(host, "."); ok {
		if _, ok := r.hosts["*."+parent]; ok {
			return "*." + parent
		}
	}
	return "other"
}

// Request counts one HTTP request (web.Config.Observe).
func (r *registry) Request(host string, code int, d time.Duration) {
	r.hmu.Lock()
	k := httpKey{r.hostLabel(host), code}
	c, ok := r.http[k]
	if !ok {
		c = r.set.GetOrCreateCounter(fmt.Sprintf(`%s{host=%s,code="%s"}`, mHTTPRequests, quote(k.host), strconv.Itoa(code)))
		r.http[k] = c
	}
	r.hmu.Unlock()
	c.Inc()
	r.httpDur.Update(d.Seconds())
}

// Order counts one ACME order by its result (certs.Config.OnOrder).
func (r *registry) Order(result string) {
	r.set.GetOrCreateCounter(fmt.Sprintf(`%s{result=%s}`, mACMEOrders, quote(result))).Inc()
}

// scan brings the gauges and the counters copied from elsewhere up to
// date; the /metrics handler calls it before writing.
func (r *registry) scan() {
	for _, f := range r.onScan {
		f()
	}
}
