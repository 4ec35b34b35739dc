// Package server runs aksid's HTTPS listener: timeouts, request IDs, panic recovery, access logs and routing by host.
package server

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/login"
	"github.com/aksid/aksid/internal/sts"
	"github.com/google/uuid"
)

// MaxHeaderBytes bounds request headers on every face.
const MaxHeaderBytes = 64 << 10

// New returns an HTTPS server for h with timeouts that keep slow or
// stalled clients from holding connections.
func New(h http.Handler, cert tls.Certificate, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           Middleware(h, log),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Middleware gives every request an x-ms-request-id, recovers panics into
// a bare 500 (details only in the log) and logs one line per request.
// Only the path is logged: queries and bodies may carry secrets.
func Middleware(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := uuid.NewString()
		w.Header().Set("x-ms-request-id", id)
		rec := &statusRecorder{ResponseWriter: w}
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
		}()
		h.ServeHTTP(rec, r)
	})
}

// DirectOrigin describes requests that reach aksid at its own URL: the
// base is the loopback name the client used (127.0.0.1 or localhost on
// aksid's port), issuers sit on it, and any other Host falls back to the
// canonical URL so a forged Host cannot choose an issuer.
func DirectOrigin(canonical string) func(*http.Request) login.Origin {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(canonical, "https://"))
	return func(r *http.Request) login.Origin {
		base := canonical
		if h, p, err := net.SplitHostPort(r.Host); err == nil && p == port && isLoopbackName(h) {
			base = "https://" + r.Host
		}
		bases := []string{base}
		if base != canonical {
			bases = append(bases, canonical)
		}
		return login.Origin{Base: base, Issuers: sts.Issuers{V1Base: base, V2Base: base}, LoginBases: bases}
	}
}

func isLoopbackName(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}
