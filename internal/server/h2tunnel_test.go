package server

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// pipeConn joins a CONNECT stream's two halves into a connection.
type pipeConn struct {
	net.Conn // unused methods; Read, Write and Close below
	r        io.ReadCloser
	w        io.WriteCloser
}

func (p pipeConn) Read(b []byte) (int, error)       { return p.r.Read(b) }
func (p pipeConn) Write(b []byte) (int, error)      { return p.w.Write(b) }
func (p pipeConn) Close() error                     { p.w.Close(); return p.r.Close() }
func (p pipeConn) SetDeadline(time.Time) error      { return nil }
func (p pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (p pipeConn) SetWriteDeadline(time.Time) error { return nil }

// TestConnectOverHTTP2: a CONNECT sent on an HTTP/2 stream to the https
// listener, as browsers do with an https proxy, opens a tunnel whose inner
// TLS names the Azure host and whose requests reach the faces; other hosts
// are refused on the stream.
func TestConnectOverHTTP2(t *testing.T) {
	plainProxy(t)
	dial := func() *http.ClientConn {
		var protocols http.Protocols
		protocols.SetHTTP2(true)
		tr := &http.Transport{Protocols: &protocols, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
		cc, err := tr.NewClientConn(t.Context(), "https", tlsAddr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return cc
	}
	connect := func(cc *http.ClientConn, target string) (*http.Response, *io.PipeWriter) {
		pr, pw := io.Pipe()
		req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Host: target}, Host: target, Header: http.Header{}, Body: pr}
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, pw
	}

	cc := dial()
	resp, pw := connect(cc, "login.microsoftonline.com:443")
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("CONNECT: %d over %s", resp.StatusCode, resp.Proto)
	}
	inner := tls.Client(pipeConn{r: resp.Body, w: pw}, &tls.Config{ServerName: "login.microsoftonline.com", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err := inner.Handshake(); err != nil {
		t.Fatalf("inner TLS: %v", err)
	}
	if cn := inner.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "login.microsoftonline.com" {
		t.Fatalf("inner certificate for %q", cn)
	}
	for i := range 2 { // two requests on one tunnel
		if _, err := io.WriteString(inner, "GET /x HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		r, err := http.ReadResponse(bufio.NewReader(inner), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != http.StatusOK || string(b) != "ok" {
			t.Fatalf("through the tunnel: %d %q", r.StatusCode, b)
		}
	}
	inner.Close()

	if resp, _ := connect(cc, "example.com:443"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("CONNECT to another host: %d", resp.StatusCode)
	}
}

// TestConnectStreamClientGone: a client that drops its HTTP/2 connection
// while the tunnel is still writing to it ends the handler only after the
// tunnel's copiers stop touching the stream (run with -race).
func TestConnectStreamClientGone(t *testing.T) {
	plainProxy(t)
	var protocols http.Protocols
	protocols.SetHTTP2(true)
	tr := &http.Transport{Protocols: &protocols, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	for range 20 {
		cc, err := tr.NewClientConn(t.Context(), "https", tlsAddr)
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		target := "login.microsoftonline.com:443"
		resp, err := cc.RoundTrip(&http.Request{Method: http.MethodConnect, URL: &url.URL{Host: target}, Host: target, Header: http.Header{}, Body: pr})
		if err != nil {
			t.Fatal(err)
		}
		inner := tls.Client(pipeConn{r: resp.Body, w: pw}, &tls.Config{ServerName: "login.microsoftonline.com", InsecureSkipVerify: true})
		go func() { _ = inner.Handshake() }() // the server answers with its certificate
		time.Sleep(time.Millisecond)
		cc.Close()
	}
}
