package acmepeer

import (
	"bytes"
	ctls "crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// newOrderPath is Pebble's newOrder URL path.
const newOrderPath = "/order-plz"

// Refusal is how a Proxy answers a newOrder instead of Pebble: an RFC
// 8555 problem with its HTTP status, and a Retry-After in seconds when
// not 0.
type Refusal struct {
	Status     int
	Type       string // e.g. urn:ietf:params:acme:error:rateLimited
	RetryAfter int
}

// Proxy stands in front of a Pebble, at another address, passing
// requests on with their Host (Pebble makes its URLs from it, so a
// client talks to the Proxy only). It counts the new orders per name
// and can refuse them, as a CA that is rate limiting or rejecting
// names does. Its certificate is Pebble's listener's (trust CAFile).
type Proxy struct {
	Addr      string
	Directory string

	pebble *Pebble
	mu     sync.Mutex
	orders map[string]int
	refuse func(name string) *Refusal
	srv    *http.Server
}

// NewProxy makes a proxy for p on a free port, not yet listening: until
// Start, connections to it are refused.
func NewProxy(t testing.TB, p *Pebble) *Proxy {
	t.Helper()
	x := &Proxy{pebble: p, orders: map[string]int{}, Addr: "127.0.0.1:" + strconv.Itoa(freePort(t))}
	x.Directory = "https://" + x.Addr + "/dir"
	return x
}

// Refuse sets which new orders are refused (f returns nil to pass one
// on); nil passes them all.
func (x *Proxy) Refuse(f func(name string) *Refusal) {
	x.mu.Lock()
	x.refuse = f
	x.mu.Unlock()
}

// Orders is how many new orders for name reached the proxy.
func (x *Proxy) Orders(name string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.orders[name]
}

// Start listens and serves until the test ends.
func (x *Proxy) Start(t testing.TB) {
	t.Helper()
	target, _ := url.Parse("https://" + x.pebble.APIAddr)
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{TLSClientConfig: &ctls.Config{RootCAs: x.pebble.api}},
	}
	pair, err := ctls.LoadX509KeyPair(x.pebble.CAFile, x.pebble.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	x.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == newOrderPath {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(body))
			name := orderName(body)
			x.mu.Lock()
			x.orders[name]++
			refuse := x.refuse
			x.mu.Unlock()
			if refuse != nil {
				if rf := refuse(name); rf != nil {
					if rf.RetryAfter > 0 {
						w.Header().Set("Retry-After", strconv.Itoa(rf.RetryAfter))
					}
					w.Header().Set("Content-Type", "application/problem+json")
					w.WriteHeader(rf.Status)
					fmt.Fprintf(w, `{"type":%q,"detail":"refused by the test proxy","status":%d}`, rf.Type, rf.Status)
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", x.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go x.srv.Serve(ctls.NewListener(ln, &ctls.Config{Certificates: []ctls.Certificate{pair}}))
	t.Cleanup(func() { x.srv.Close() })
}

// orderName is the first identifier of a newOrder request (a JWS whose
// payload lists them).
func orderName(body []byte) string {
	var jws struct {
		Payload string `json:"payload"`
	}
	if json.Unmarshal(body, &jws) != nil {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(jws.Payload)
	if err != nil {
		return ""
	}
	var order struct {
		Identifiers []struct {
			Value string `json:"value"`
		} `json:"identifiers"`
	}
	if json.Unmarshal(payload, &order) != nil || len(order.Identifiers) == 0 {
		return ""
	}
	return order.Identifiers[0].Value
}
