package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// LeafMinter mints a certificate for a host from aksid's CA.
type LeafMinter interface {
	Leaf(hosts []string, now time.Time) (tls.Certificate, error)
}

// Proxy lets the listener also act as an HTTP proxy that impersonates
// Azure's public hosts: CONNECT opens a tunnel whose inner TLS presents a
// leaf certificate for the target from aksid's CA, and the requests inside
// are served by the faces. Nothing is ever forwarded to the outside.
type Proxy struct {
	ca       LeafMinter
	clusters ClusterGate
	conns    *connListener
	log      *slog.Logger
	obs      *observer

	mu    sync.Mutex
	leafs map[string]*tls.Certificate
}

func (p *Proxy) leaf(host string) (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.leafs[host]; ok {
		return c, nil
	}
	c, err := p.ca.Leaf([]string{host}, time.Now())
	if err != nil {
		return nil, err
	}
	p.leafs[host] = &c
	return &c, nil
}

// refuse answers a proxy request aksid will not carry, naming the host so
// a forgotten setting fails loudly instead of reaching real Azure.
func refuse(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	fmt.Fprintf(w, "aksid proxy: "+format+"\n", args...)
}

// handle serves proxy requests (CONNECT and absolute-form) and passes
// every other request to next.
func (p *Proxy) handle(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodConnect:
			p.connect(w, r)
		case r.URL.IsAbs() || (r.URL.Host != "" && !strings.HasPrefix(r.RequestURI, "/")):
			p.absolute(w, r, next)
		case plainConn(r) && r.URL.Path != appServicePath:
			refuse(w, http.StatusBadRequest, "this port only answers proxy requests; use https://%s for aksid itself", r.Host)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// connect opens a tunnel to an impersonated Azure host.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || host == "" {
		refuse(w, http.StatusBadRequest, "malformed CONNECT target %q (want host:443)", r.Host)
		return
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if g := p.clusters; g != nil && port == "443" && g.Owns(host) {
		p.connectCluster(w, r, host)
		return
	}
	if AzureFace(host) == "" || port != "443" {
		p.log.WarnContext(r.Context(), "proxy: refused", "host", r.Host)
		// In the status line too: az (urllib) and Go clients show only it.
		refuseWithReason(w, r, http.StatusForbidden, fmt.Sprintf("refusing to connect to %s: aksid is offline and only stands in for Azure's public endpoints", r.Host))
		return
	}
	p.open(w, r, func(c net.Conn) { go p.tunnel(c, host) })
}

// open answers a CONNECT with 200 and hands the tunnel to serve, which
// must not block.
func (p *Proxy) open(w http.ResponseWriter, r *http.Request, serve func(net.Conn)) {
	if r.ProtoMajor == 2 {
		p.connectStream(w, r, serve)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		refuse(w, http.StatusMethodNotAllowed, "CONNECT needs HTTP/1.1 or HTTP/2")
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	inner := net.Conn(conn)
	if n := brw.Reader.Buffered(); n > 0 {
		// The client sent its ClientHello without waiting for our answer.
		inner = &prefixed{Conn: conn, head: brw.Reader}
	}
	serve(inner)
}

// tunnel terminates the inner TLS of a tunnel and serves its requests.
// The client must ask for the host it CONNECTed to (SNI), or be dropped.
func (p *Proxy) tunnel(c net.Conn, host string) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName != "" && !strings.EqualFold(hello.ServerName, host) {
				return nil, fmt.Errorf("tunnel to %s asked for %s", host, hello.ServerName)
			}
			return p.leaf(host)
		},
	}
	tc := tls.Server(c, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		p.log.Info("proxy: tunnel closed", "host", host, "err", err.Error())
		c.Close()
		return
	}
	var conn net.Conn = tc
	if o := p.obs.get(); o != nil {
		o.Tunnels(1)
		conn = &counted{Conn: tc, done: func() { o.Tunnels(-1) }}
	}
	p.conns.push(&decrypted{Conn: conn, state: tc.ConnectionState(), tunnel: host})
}

// absolute serves an absolute-form request (a plain HTTP proxy request)
// for an impersonated host; any other host is refused.
func (p *Proxy) absolute(w http.ResponseWriter, r *http.Request, next http.Handler) {
	host := strings.ToLower(r.URL.Hostname())
	if host != imdsHost || r.URL.Scheme != "http" {
		p.log.WarnContext(r.Context(), "proxy: refused", "host", r.URL.Host)
		refuse(w, http.StatusForbidden, "refusing to fetch %s://%s: aksid is offline and only stands in for Azure's endpoints", r.URL.Scheme, r.URL.Host)
		return
	}
	r.Host = host
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tunnelKey, host)))
}

// imdsHost is the managed-identity endpoint, reached with HTTP_PROXY.
const imdsHost = "169.254.169.254"

// appServicePath is the App Service form of the managed-identity endpoint
// (IDENTITY_ENDPOINT), served on the plain port as App Service serves it
// on plain HTTP, and on the HTTPS listener.
const appServicePath = "/msi/token"

// prefixed replays bytes a reader buffered before the connection changed hands.
type prefixed struct {
	net.Conn
	head *bufio.Reader
}

func (p *prefixed) Read(b []byte) (int, error) {
	if p.head != nil && p.head.Buffered() > 0 {
		return p.head.Read(b)
	}
	return p.Conn.Read(b)
}

// plainMarker marks connections accepted on the plain-HTTP proxy port.
type plainMarker struct{ net.Conn }

const plainKey ctxKey = 2

func plainConn(r *http.Request) bool {
	v, _ := r.Context().Value(plainKey).(bool)
	return v
}
