package web

import (
	"bufio"
	ctls "crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRequestSmuggling: a request carrying both Content-Length and
// Transfer-Encoding gets 400 and the connection is closed, so that the
// request hidden in its body is never answered.
func TestRequestSmuggling(t *testing.T) {
	httpsAddr, _, pool := startHTTPS(t, 0)
	conn, err := ctls.Dial("tcp", httpsAddr, &ctls.Config{ServerName: "example.org", RootCAs: pool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	hidden := "GET /contact HTTP/1.1\r\nHost: example.org\r\n\r\n"
	body := "0\r\n\r\n" + hidden
	req := "GET / HTTP/1.1\r\nHost: example.org\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + body
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !resp.Close {
		t.Fatalf("status %d, close %v; want 400 and the connection closed", resp.StatusCode, resp.Close)
	}
	rest, _ := io.ReadAll(br)
	if strings.Contains(string(rest), "HTTP/1.1") {
		t.Fatalf("the request hidden in the body was answered: %q", rest)
	}
}
