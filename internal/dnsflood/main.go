// Command dnsflood floods a DNS server over UDP from one address while
// two other clients ask it too, one of them sending back the server
// cookie it was given, and prints what each got: how the server's
// response-rate limiting treats a flood and its neighbours. The tests
// run it inside a network namespace, where the addresses are real.
//
//	go run ./internal/dnsflood -addr 10.87.0.2:53 -from 10.87.1.1 -bystander 10.87.2.1 -cookied 10.87.1.2 -n 2000
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:53", "the server")
	name := flag.String("name", "www.example.org.", "the name asked")
	from := flag.String("from", "127.0.0.2", "the flooding address")
	by := flag.String("bystander", "127.0.0.3", "a client of another prefix")
	cookied := flag.String("cookied", "", "a client of the flooding prefix that sends back its server cookie")
	n := flag.Int("n", 2000, "queries of the flood")
	flag.Parse()
	server, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnsflood:", err)
		os.Exit(2)
	}
	flood, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(*from)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnsflood:", err)
		os.Exit(2)
	}
	m := new(dns.Msg).SetQuestion(*name, dns.TypeA)
	m.SetEdns0(1232, false)
	q, _ := m.Pack()
	answered, truncated := 0, 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			flood.SetReadDeadline(time.Now().Add(time.Second))
			k, _, err := flood.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var r dns.Msg
			if r.Unpack(buf[:k]) != nil {
				continue
			}
			if r.Truncated {
				truncated++
			} else {
				answered++
			}
		}
	}()
	ok, failed := map[string]int{}, map[string]int{}
	cookie := ""
	ask := func(who, src string) {
		c := &dns.Client{Timeout: 500 * time.Millisecond, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(src)}}}
		m := new(dns.Msg).SetQuestion(*name, dns.TypeA)
		m.SetEdns0(1232, false)
		if who == "cookied" {
			if cookie == "" {
				cookie = "0123456789abcdef"
			}
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
		}
		r, _, err := c.Exchange(m, *addr)
		if err != nil || r.Truncated || len(r.Answer) == 0 {
			failed[who]++
			return
		}
		ok[who]++
		if who == "cookied" {
			for _, o := range r.IsEdns0().Option {
				if c, isCookie := o.(*dns.EDNS0_COOKIE); isCookie {
					cookie = c.Cookie // the client cookie and the server's
				}
			}
		}
	}
	if *cookied != "" {
		ask("cookied", *cookied) // the first answer brings the server cookie
	}
	start := time.Now()
	for i := range *n {
		flood.WriteToUDP(q, server)
		if i%100 == 0 {
			ask("bystander", *by)
			if *cookied != "" {
				ask("cookied", *cookied)
			}
		}
	}
	elapsed := time.Since(start)
	<-done
	fmt.Printf("sent=%d in=%v answered=%d truncated=%d silent=%d bystander_ok=%d bystander_failed=%d cookied_ok=%d cookied_failed=%d cookie=%s\n",
		*n, elapsed.Round(time.Millisecond), answered, truncated, *n-answered-truncated, ok["bystander"], failed["bystander"], ok["cookied"], failed["cookied"], strings.ToLower(hexLen(cookie)))
}

// hexLen says how long the cookie held was, in octets.
func hexLen(c string) string {
	b, err := hex.DecodeString(c)
	if err != nil {
		return "bad"
	}
	return fmt.Sprint(len(b))
}
