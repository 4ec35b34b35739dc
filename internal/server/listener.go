package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// handshakeTimeout bounds a TLS handshake, so a silent client cannot hold
// an accept slot.
const handshakeTimeout = 10 * time.Second

// decrypted is a TLS connection handed to the HTTP server as if it were
// plain: the server then serves HTTP/1.1, or HTTP/2 when the client opens
// with the HTTP/2 preface. Deciding by the first bytes instead of by ALPN
// matters because Go clients offer h2 to an https proxy and then speak
// HTTP/1.1 (CONNECT) on it.
type decrypted struct {
	net.Conn
	state  tls.ConnectionState
	tunnel string // the CONNECT target when this connection is inside a tunnel
}

// connListener is a net.Listener fed by the TLS accept loop and by tunnels.
type connListener struct {
	addr   net.Addr
	conns  chan net.Conn
	done   chan struct{}
	closer sync.Once
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closer.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

// push hands a connection to the HTTP server, or closes it after shutdown.
func (l *connListener) push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// acceptTLS terminates TLS for every connection on ln and feeds the
// decrypted connections to the HTTP server, until ln is closed; a
// connection for a cluster's API server name is carried there instead.
func (s *Server) acceptTLS(ln net.Listener) {
	cfg, l := s.tls, s.conns
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			l.Close()
			return
		}
		go func() {
			if s.clusters != nil {
				name, replay := peekServerName(c)
				if name != "" && s.clusters.Owns(name) {
					s.carryCluster(replay, name)
					return
				}
				c = replay
			}
			tc := tls.Server(c, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
			defer cancel()
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return
			}
			l.push(&decrypted{Conn: tc, state: tc.ConnectionState()})
		}()
	}
}

type ctxKey int

const tunnelKey ctxKey = 1

// connContext remembers, for each request, whether its connection is a
// tunnel and to which host.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if d, ok := c.(*decrypted); ok && d.tunnel != "" {
		return context.WithValue(ctx, tunnelKey, d.tunnel)
	}
	return ctx
}

// TunnelHost is the Azure host a request reached through the proxy, or "".
func TunnelHost(r *http.Request) string {
	h, _ := r.Context().Value(tunnelKey).(string)
	return h
}
