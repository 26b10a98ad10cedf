// Command hostile is the attacking client of bench/hostile.sh: it runs
// one attack on an HTTPS server from one loopback address while a
// second client, from another, asks for a page every 100 ms, and prints
// how the second client fared.
//
//	go run ./internal/hostile -addr 127.0.0.1:8443 -attack stall-h2 -n 200 -for 8s
//
// Attacks: silent (TCP connects that send nothing), idle-h1 and idle-h2
// (connections kept alive after one finished request), stall-h1 (a GET
// of -path whose response is never read, with a small receive buffer),
// stall-h2 (HTTP/2 connections with 100 streams each on -path whose
// window is never opened), ranges (GETs of -path with 16,000 one-byte
// ranges). Dropped
// connections are opened again, so that n are kept up.
package main

import (
	"bufio"
	"bytes"
	"context"
	ctls "crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

type options struct {
	addr, attack, path, host, from, by string
	n                                  int
	dur, timeout                       time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8443", "the server's HTTPS address")
	flag.StringVar(&o.attack, "attack", "stall-h2", "silent, idle-h1, idle-h2, stall-h1, stall-h2 or ranges")
	flag.StringVar(&o.path, "path", "/big.bin", "what stall-h2 and ranges ask for")
	flag.StringVar(&o.host, "host", "example.org", "the Host and SNI name")
	flag.StringVar(&o.from, "from", "127.0.0.2", "the attacker's address")
	flag.StringVar(&o.by, "bystander", "127.0.0.3", "the second client's address")
	flag.IntVar(&o.n, "n", 100, "attacking connections kept up")
	flag.DurationVar(&o.dur, "for", 8*time.Second, "how long")
	flag.DurationVar(&o.timeout, "timeout", time.Second, "a bystander request not answered within this has failed")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), o.dur)
	defer cancel()
	var opened atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < o.n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c := attack(ctx, o)
				if c == nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				opened.Add(1)
				waitClosed(ctx, c, o)
				c.Close()
			}
		}()
	}
	time.Sleep(min(2*time.Second, o.dur/3)) // let the attack settle
	ok, failed, lat := bystand(ctx, o)
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(int(q*float64(len(lat))), len(lat)-1)].Round(time.Millisecond)
	}
	fmt.Printf("attack=%s n=%d opened=%d bystander_ok=%d bystander_failed=%d p50=%v p99=%v\n", o.attack, o.n, opened.Load(), ok, failed, p(0.5), p(0.99))
}

func dialer(from string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
}

func tlsConf(o options, proto string) *ctls.Config {
	return &ctls.Config{ServerName: o.host, InsecureSkipVerify: true, NextProtos: []string{proto}}
}

// attack opens one attacking connection; nil when it could not.
func attack(ctx context.Context, o options) net.Conn {
	switch o.attack {
	case "silent":
		c, err := dialer(o.from).DialContext(ctx, "tcp", o.addr)
		if err != nil {
			return nil
		}
		return c
	case "idle-h2", "stall-h2":
		c, err := ctls.DialWithDialer(dialer(o.from), "tcp", o.addr, tlsConf(o, "h2"))
		if err != nil {
			return nil
		}
		io.WriteString(c, http2.ClientPreface)
		fr := http2.NewFramer(c, c)
		window := uint32(65535)
		streams, path := 1, "/"
		if o.attack == "stall-h2" {
			window, streams, path = 0, 100, o.path
		}
		fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: window})
		var hb bytes.Buffer
		enc := hpack.NewEncoder(&hb)
		for i := 0; i < streams; i++ {
			hb.Reset()
			for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", o.host}, {":path", path}} {
				enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
		}
		go func() { // answer what must be answered, read the rest
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					return
				}
				switch f := f.(type) {
				case *http2.SettingsFrame:
					if !f.IsAck() {
						fr.WriteSettingsAck()
					}
				case *http2.PingFrame:
					if !f.IsAck() {
						fr.WritePing(true, f.Data)
					}
				}
			}
		}()
		return c
	case "idle-h1", "stall-h1":
		d := dialer(o.from)
		d.Control = smallReceiveBuffer
		c, err := ctls.DialWithDialer(d, "tcp", o.addr, tlsConf(o, "http/1.1"))
		if err != nil {
			return nil
		}
		path := "/"
		if o.attack == "stall-h1" {
			path = o.path
		}
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+o.host+"\r\n\r\n"); err != nil {
			c.Close()
			return nil
		}
		if o.attack == "idle-h1" {
			resp, err := http.ReadResponse(bufioReader(c), nil)
			if err != nil {
				c.Close()
				return nil
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return c
	case "ranges":
		c, err := ctls.DialWithDialer(dialer(o.from), "tcp", o.addr, tlsConf(o, "http/1.1"))
		if err != nil {
			return nil
		}
		var rs []string
		for i := 0; i < 16000; i++ {
			rs = append(rs, fmt.Sprintf("%d-%d", i%1000, i%1000))
		}
		req := "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + "\r\nRange: bytes=" + strings.Join(rs, ",") + "\r\n\r\n"
		go func() {
			for ctx.Err() == nil {
				if _, err := io.WriteString(c, req); err != nil {
					return
				}
				resp, err := http.ReadResponse(bufioReader(c), nil)
				if err != nil {
					c.Close()
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return c
	}
	fmt.Fprintln(os.Stderr, "hostile: unknown attack", o.attack)
	os.Exit(2)
	return nil
}

// smallReceiveBuffer keeps a stalled download's receive window small,
// as a client that stopped reading over a slow link has it.
func smallReceiveBuffer(_, _ string, rc syscall.RawConn) error {
	return rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
	})
}

// waitClosed returns when the server closed c (a read fails) or ctx ends.
func waitClosed(ctx context.Context, c net.Conn, o options) {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, ok := c.(*ctls.Conn); ok && o.attack != "idle-h1" && o.attack != "stall-h1" {
		<-ctx.Done() // the attack's reader owns it
		return
	}
	if o.attack == "stall-h1" {
		<-ctx.Done() // never reads: whether the server closed it shows when it is read
		return
	}
	io.Copy(io.Discard, c)
}

// bystand asks for / every 100 ms on a fresh connection until ctx ends.
func bystand(ctx context.Context, o options) (ok, failed int, lat []time.Duration) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer(o.by).DialContext(ctx, network, o.addr)
		},
		TLSClientConfig:   &ctls.Config{ServerName: o.host, InsecureSkipVerify: true},
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true,
	}
	c := &http.Client{Transport: tr, Timeout: o.timeout}
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := c.Get("https://" + o.host + "/")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		d := time.Since(start)
		if err != nil || d > o.timeout {
			if ctx.Err() == nil {
				failed++
				if err == nil {
					err = fmt.Errorf("answered after %v", d.Round(time.Millisecond))
				}
				fmt.Fprintf(os.Stderr, "bystander: %v\n", err)
			}
		} else {
			ok++
			lat = append(lat, d)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return ok, failed, lat
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 64<<10) }
