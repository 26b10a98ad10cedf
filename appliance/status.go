package appliance

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sample is one line of the text exposition: a series and its value.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseSamples reads the Prometheus text format as /metrics writes it;
// comments and lines it cannot read are skipped.
func parseSamples(r io.Reader) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if s, ok := parseSample(line); ok {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseSample(line string) (sample, bool) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, false
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for {
			line = strings.TrimLeft(line, ", ")
			if strings.HasPrefix(line, "}") {
				line = line[1:]
				break
			}
			eq := strings.Index(line, `="`)
			if eq <= 0 {
				return s, false
			}
			key := line[:eq]
			line = line[eq+2:]
			var val strings.Builder
			j := 0
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
					if line[j] == 'n' {
						val.WriteByte('\n')
						continue
					}
				}
				val.WriteByte(line[j])
			}
			if j == len(line) {
				return s, false
			}
			s.labels[key] = val.String()
			line = line[j+1:]
		}
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return s, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, false
	}
	s.value = v
	return s, true
}

// Status is what a running appliance's metrics say of it.
type Status struct {
	Ready   bool
	Version string
	Started time.Time
	Zones   []ZoneStatus
	Certs   []CertStatus
	// Queries by protocol, responses by rcode, HTTP requests by status
	// class ("2xx"), ACME orders by result, since start.
	Queries   map[string]float64
	Responses map[string]float64
	RRL       map[string]float64
	HTTP      map[string]float64
	Orders    map[string]float64
}

// ZoneStatus is one served zone.
type ZoneStatus struct {
	Name    string
	Serial  uint32
	Queries float64
}

// CertStatus is the certificate of one HTTPS name; NotAfter is zero
// while only the self-signed fallback is served.
type CertStatus struct {
	Name     string
	NotAfter time.Time
}

// FetchStatus reads the metrics an appliance serves at addr (host:port)
// and sums them up.
func FetchStatus(ctx context.Context, addr string) (*Status, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return nil, err
		}
		return client.Do(req)
	}
	resp, err := get("/metrics")
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status: %s/metrics: %s", addr, resp.Status)
	}
	samples, err := parseSamples(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("status: %s/metrics: %w", addr, err)
	}
	st := summarize(samples)
	if r, err := get("/readyz"); err == nil {
		st.Ready = r.StatusCode == http.StatusOK
		r.Body.Close()
	}
	return st, nil
}

// summarize sums the samples up.
func summarize(samples []sample) *Status {
	st := &Status{Queries: map[string]float64{}, Responses: map[string]float64{}, RRL: map[string]float64{},
		HTTP: map[string]float64{}, Orders: map[string]float64{}}
	zones := map[string]*ZoneStatus{}
	zone := func(name string) *ZoneStatus {
		if z, ok := zones[name]; ok {
			return z
		}
		z := &ZoneStatus{Name: name}
		zones[name] = z
		return z
	}
	for _, s := range samples {
		switch s.name {
		case mBuildInfo:
			st.Version = s.labels["version"]
			if r := s.labels["revision"]; r != "" {
				st.Version += " " + r
			}
		case "process_start_time_seconds":
			st.Started = time.Unix(int64(s.value), 0)
		case mZoneSerial:
			zone(s.labels["zone"]).Serial = uint32(s.value)
		case mDNSRequests:
			st.Queries[s.labels["proto"]] += s.value
			if z := s.labels["zone"]; z != "other" {
				zone(z).Queries += s.value
			}
		case mDNSResponses:
			st.Responses[s.labels["rcode"]] += s.value
		case mRRLActions:
			st.RRL[s.labels["action"]] += s.value
		case mHTTPRequests:
			if c := s.labels["code"]; len(c) == 3 {
				st.HTTP[c[:1]+"xx"] += s.value
			}
		case mACMEOrders:
			st.Orders[s.labels["result"]] += s.value
		case mCertNotAfter:
			c := CertStatus{Name: s.labels["name"]}
			if s.value > 0 {
				c.NotAfter = time.Unix(int64(s.value), 0)
			}
			st.Certs = append(st.Certs, c)
		}
	}
	for _, z := range zones {
		st.Zones = append(st.Zones, *z)
	}
	slices.SortFunc(st.Zones, func(a, b ZoneStatus) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(st.Certs, func(a, b CertStatus) int { return strings.Compare(a.Name, b.Name) })
	return st
}

// Write prints the status for a person, as of now.
func (st *Status) Write(w io.Writer, now time.Time) {
	state := "starting"
	if st.Ready {
		state = "ready"
	}
	fmt.Fprintf(w, "islet %s: %s", st.Version, state)
	if !st.Started.IsZero() {
		fmt.Fprintf(w, ", up %s", now.Sub(st.Started).Round(time.Second))
	}
	fmt.Fprintln(w)
	if len(st.Zones) > 0 {
		fmt.Fprintln(w, "zones:")
		for _, z := range st.Zones {
			fmt.Fprintf(w, "  %-30s serial %-10d %s queries\n", z.Name, z.Serial, count(z.Queries))
		}
	}
	if len(st.Certs) > 0 {
		fmt.Fprintln(w, "certificates:")
		for _, c := range st.Certs {
			if c.NotAfter.IsZero() {
				fmt.Fprintf(w, "  %-30s none yet: serving the self-signed fallback\n", c.Name)
				continue
			}
			left := c.NotAfter.Sub(now)
			fmt.Fprintf(w, "  %-30s expires %s, %d days left\n", c.Name, c.NotAfter.UTC().Format("2006-01-02 15:04 MST"), int(left.Hours()/24))
		}
	}
	fmt.Fprintln(w, "since start:")
	fmt.Fprintf(w, "  DNS queries    %s\n", breakdown(st.Queries))
	fmt.Fprintf(w, "  DNS responses  %s\n", breakdown(st.Responses))
	if len(st.RRL) > 0 {
		fmt.Fprintf(w, "  rate-limited   %s\n", breakdown(st.RRL))
	}
	fmt.Fprintf(w, "  HTTP requests  %s\n", breakdown(st.HTTP))
	if len(st.Orders) > 0 {
		fmt.Fprintf(w, "  ACME orders    %s\n", breakdown(st.Orders))
	}
}

// breakdown writes "total (a n, b m)" with the parts in order of name.
func breakdown(m map[string]float64) string {
	total := 0.0
	var keys []string
	for k, v := range m {
		total += v
		if v > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+count(m[k]))
	}
	if len(parts) == 0 {
		return count(total)
	}
	return count(total) + " (" + strings.Join(parts, ", ") + ")"
}

func count(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
