package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ClusterGate reaches managed clusters' API servers (kubeplane.Plane).
// aksid does not terminate their TLS: the API server presents the
// certificate its cluster's CA issued, which is what kubeconfigs trust.
type ClusterGate interface {
	// Owns tells whether host is a cluster API server name.
	Owns(host string) bool
	// Dial connects to the API server for host, starting it if needed.
	Dial(ctx context.Context, host string) (net.Conn, error)
}

// dialTimeout bounds a cluster's start on its first connection.
const dialTimeout = 2 * time.Minute

// SetClusterGate makes the listener carry connections to managed
// clusters: CONNECT <fqdn>:443 through the proxy, and TLS whose server
// name is an API server's on aksid's own port (kubeconfigs rewritten by
// `aksid kubeconfig direct`, whose tls-server-name is the fqdn). Call it
// before Serve.
func (s *Server) SetClusterGate(g ClusterGate) {
	s.proxy.clusters = g
	s.clusters = g
}

// connectCluster opens a tunnel to a cluster's API server; the answer
// waits for the server to start, so a refusal can still be an HTTP one.
func (p *Proxy) connectCluster(w http.ResponseWriter, r *http.Request, host string) {
	ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
	defer cancel()
	up, err := p.clusters.Dial(ctx, host)
	if err != nil {
		p.log.WarnContext(r.Context(), "proxy: cluster unreachable", "host", host, "err", err.Error())
		refuseWithReason(w, r, http.StatusBadGateway, fmt.Sprintf("cannot reach the API server %s: %s", host, err.Error()))
		return
	}
	p.open(w, r, func(c net.Conn) { go splice(c, up) })
}

// carryCluster takes a connection whose ClientHello named a cluster.
func (s *Server) carryCluster(c net.Conn, host string) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	up, err := s.clusters.Dial(ctx, host)
	if err != nil {
		s.log.Warn("cluster unreachable", "host", host, "err", err.Error())
		c.Close()
		return
	}
	splice(c, up)
}

// splice copies both ways until either side ends, then closes both.
func splice(a, b net.Conn) {
	var once sync.Once
	closeBoth := func() { a.Close(); b.Close() }
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(a, b); once.Do(closeBoth) })
	wg.Go(func() { _, _ = io.Copy(b, a); once.Do(closeBoth) })
	wg.Wait()
}

// errPeeked stops a handshake once the ClientHello has been read.
var errPeeked = errors.New("server: ClientHello read")

// peekServerName reads a connection's TLS ClientHello and returns the
// server name it asks for, and the connection with those bytes put back.
func peekServerName(c net.Conn) (string, net.Conn) {
	var buf bytes.Buffer
	var name string
	_ = c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	peek := tls.Server(&readOnly{r: io.TeeReader(c, &buf), Conn: c}, &tls.Config{
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			name = h.ServerName
			return nil, errPeeked
		}})
	_ = peek.Handshake()
	_ = c.SetReadDeadline(time.Time{})
	return name, &replayed{Conn: c, r: io.MultiReader(&buf, c)}
}

// readOnly lets a handshake read the client's bytes and answer nothing.
type readOnly struct {
	net.Conn
	r io.Reader
}

func (c *readOnly) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *readOnly) Write(b []byte) (int, error) { return len(b), nil }
func (c *readOnly) Close() error                { return nil }

// replayed replays bytes read before the connection changed hands.
type replayed struct {
	net.Conn
	r io.Reader
}

func (c *replayed) Read(b []byte) (int, error) { return c.r.Read(b) }

// refuseWithReason refuses a CONNECT with the reason in the status line
// too: Go clients (kubectl) show a failed CONNECT's status text and never
// its body, so that is where the user reads why.
func refuseWithReason(w http.ResponseWriter, r *http.Request, status int, reason string) {
	hj, ok := w.(http.Hijacker)
	if r.ProtoMajor != 1 || !ok {
		refuse(w, status, "%s", reason)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	line := strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return ' '
		}
		return c
	}, reason)
	body := "aksid proxy: " + reason + "\n"
	fmt.Fprintf(brw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", status, line, len(body), body)
	_ = brw.Flush()
}
