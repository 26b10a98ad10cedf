package web

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"islet.dev/islet/internal/fair"
)

// TestLimitedConnCloseWrite: a connection under the limit half-closes
// as the one beneath does; net/http relies on it for plain HTTP.
func TestLimitedConnCloseWrite(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &fairListener{Listener: inner, l: fair.New(fair.Config{Max: 1}), log: slog.New(slog.DiscardHandler)}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	cw, ok := server.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("the accepted connection has no CloseWrite")
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after CloseWrite the client read %v, want EOF", err)
	}
	// The server can still read: only its sending side is shut.
	client.Write([]byte("x"))
	server.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := server.Read(make([]byte, 1)); err != nil {
		t.Errorf("read after CloseWrite: %v", err)
	}
}
