// Package server runs aksid's HTTPS listener: timeouts, request IDs, panic recovery, access logs and routing by host.
package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// MaxHeaderBytes bounds request headers on every face.
const MaxHeaderBytes = 64 << 10

// Server is aksid's listener: HTTPS for the faces and the proxy (CONNECT
// tunnels into impersonated Azure hosts), and optionally a plain-HTTP
// proxy port for clients that only speak http:// proxies.
type Server struct {
	http  *http.Server
	conns *connListener
	tls   *tls.Config
	proxy *Proxy
	log   *slog.Logger
	// clusters carries TLS for API server names; nil until set.
	clusters ClusterGate
	obs      *observer

	mu        sync.Mutex
	listeners []net.Listener
}

func (s *Server) track(ln net.Listener) {
	s.mu.Lock()
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
}

// NewServer returns a server for h with timeouts that keep slow or
// stalled clients from holding connections.
func NewServer(h http.Handler, cert tls.Certificate, ca LeafMinter, log *slog.Logger) *Server {
	conns := &connListener{conns: make(chan net.Conn), done: make(chan struct{})}
	obs := &observer{}
	p := &Proxy{ca: ca, conns: conns, log: log, leafs: map[string]*tls.Certificate{}, obs: obs}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	// The connections are decrypted already: HTTP/2 is recognised by its
	// preface, HTTP/1.1 otherwise (see decrypted).
	protocols.SetUnencryptedHTTP2(true)
	s := &http.Server{
		Handler:           middleware(p.handle(h), log, obs),
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if _, ok := c.(*plainMarker); ok {
				return context.WithValue(ctx, plainKey, true)
			}
			return connContext(ctx, c)
		},
	}
	return &Server{http: s, conns: conns, proxy: p, log: log, obs: obs,
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}}
}

// Serve accepts HTTPS connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.conns.addr = ln.Addr()
	s.track(ln)
	go s.acceptTLS(ln)
	return s.http.Serve(s.conns)
}

// ServePlain accepts plain-HTTP proxy connections on ln until it closes.
func (s *Server) ServePlain(ln net.Listener) {
	s.track(ln)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.conns.push(&plainMarker{Conn: c})
	}
}

// Shutdown stops accepting and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	err := s.http.Shutdown(ctx)
	s.conns.Close()
	return err
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	face   string // set by the router
	// capture keeps the start of an error answer's body in errBody, for
	// its Azure error code (errorCode).
	capture bool
	errBody []byte
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Hijack lets the proxy take over a CONNECT connection.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return hj.Hijack()
}

// Unwrap serves http.ResponseController.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	s.keepErrorBody(b)
	return s.ResponseWriter.Write(b)
}

// Middleware gives every request an x-ms-request-id, recovers panics into
// a bare 500 (details only in the log) and logs one line per request.
// Only the path is logged: queries and bodies may carry secrets.
func Middleware(h http.Handler, log *slog.Logger) http.Handler { return middleware(h, log, nil) }

func middleware(h http.Handler, log *slog.Logger, obs *observer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := uuid.NewString()
		w.Header().Set("x-ms-request-id", id)
		o := obs.get()
		rec := &statusRecorder{ResponseWriter: w, capture: o != nil}
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(r.Context(), "panic serving request", "request_id", id, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					rec.Header().Set("Content-Type", "application/json; charset=utf-8")
					rec.WriteHeader(http.StatusInternalServerError)
					_, _ = rec.Write([]byte(`{"error":{"code":"InternalServerError","message":"An internal error occurred. Request ID: ` + id + `"}}`))
				}
			}
			log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "host", r.Host,
				"path", r.URL.Path, "status", rec.status, "duration_ms", time.Since(start).Milliseconds())
			if o != nil && r.Method != http.MethodConnect {
				o.Request(rec.face, rec.status, errorCode(rec.status, rec.Header().Get("Content-Type"), rec.errBody))
			}
		}()
		h.ServeHTTP(rec, r)
	})
}

// IsLoopbackName tells whether a host name or address (IPv6 bracketed or
// not) is this machine: localhost or a loopback IP.
func IsLoopbackName(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}
