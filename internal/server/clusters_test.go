package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const clusterHost = "c1-0a1b2c3d.hcp.eastus.azmk8s.io"

// fakeGate is a cluster API server stand-in: its own TLS server with a
// certificate for clusterHost, which the client must see unchanged.
type fakeGate struct {
	addr string
	cert tls.Certificate
	err  error
}

func (g *fakeGate) Owns(host string) bool { return strings.HasSuffix(host, ".azmk8s.io") }

func (g *fakeGate) Dial(ctx context.Context, host string) (net.Conn, error) {
	if host != clusterHost || g.err != nil {
		return nil, fmt.Errorf("no cluster %s: %w", host, g.err)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", g.addr)
}

func newFakeGate(t *testing.T) *fakeGate {
	cert, err := selfSigned{}.Leaf([]string{clusterHost}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "apiserver "+r.URL.Path)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return &fakeGate{addr: ln.Addr().String(), cert: cert}
}

// gatedServer runs a Server (HTTPS and the plain proxy port) carrying
// cluster connections to g.
func gatedServer(t *testing.T, g ClusterGate) (httpsAddr, plainAddr string) {
	cert, err := selfSigned{}.Leaf([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "aksid") })
	s := NewServer(NewRouter(h, "https://127.0.0.1:8443"), cert, selfSigned{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.SetClusterGate(g)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	go s.ServePlain(pl)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return ln.Addr().String(), pl.Addr().String()
}

func trusting(c tls.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(c.Certificate[0])
	pool.AddCert(leaf)
	return pool
}

// TestClusterThroughProxy: CONNECT <fqdn>:443 on the plain proxy port
// reaches the cluster's own server, whose certificate the client checks.
func TestClusterThroughProxy(t *testing.T) {
	g := newFakeGate(t)
	_, plain := gatedServer(t, g)
	px, _ := url.Parse("http://" + plain)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(px), TLSClientConfig: &tls.Config{RootCAs: trusting(g.cert)}}}
	resp, err := c.Get("https://" + clusterHost + "/api")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "apiserver /api" {
		t.Fatalf("through the proxy: %q", b)
	}
	// A cluster that cannot be reached is an HTTP refusal naming why.
	g.err = errors.New("the managed cluster is stopped")
	c.CloseIdleConnections()
	_, err = c.Get("https://" + clusterHost + "/api")
	if err == nil || !strings.Contains(err.Error(), "managed cluster is stopped") {
		t.Fatalf("stopped cluster: %v", err)
	}
	conn, err := net.Dial("tcp", plain)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n", clusterHost, clusterHost)
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "stopped") {
		t.Fatalf("CONNECT to a stopped cluster: %d %s", resp.StatusCode, b)
	}
}

// TestClusterByServerName: TLS on aksid's own port whose server name is a
// cluster's (kubectl's tls-server-name) is carried to that cluster
// untouched; any other name gets aksid itself.
func TestClusterByServerName(t *testing.T) {
	g := newFakeGate(t)
	httpsAddr, _ := gatedServer(t, g)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: trusting(g.cert), ServerName: clusterHost}}}
	resp, err := c.Get("https://" + httpsAddr + "/version")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "apiserver /version" {
		t.Fatalf("by server name: %q", b)
	}
	self := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err = self.Get("https://" + httpsAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "aksid" {
		t.Fatalf("aksid's own name: %q", b)
	}
}
