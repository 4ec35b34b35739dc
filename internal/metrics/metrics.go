// Package metrics is aksid's Prometheus registry and the figures it exports.
package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Registry holds aksid's metrics. It is not Prometheus' global registry,
// so tests and replicas in one process do not collide.
type Registry struct {
	reg          *prometheus.Registry
	signing      *prometheus.GaugeVec
	requests     *prometheus.CounterVec
	tunnels      prometheus.Gauge
	tokens       *prometheus.CounterVec
	authz        *prometheus.HistogramVec
	store        *prometheus.HistogramVec
	storeRetries prometheus.Counter

	codesMu sync.Mutex
	codes   map[string]bool // error codes labelled so far, at most maxCodes
}

// maxCodes bounds the error_code label's values: codes come from aksid's
// own tables, but a body's code is read back from the answer, so past
// this many distinct ones the rest are counted as "other".
const maxCodes = 256

// New returns a registry with aksid's metrics registered.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), codes: map[string]bool{}}
	r.signing = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aksid_token_signing_backend",
		Help: "The RSA implementation that signs tokens (1 for the one in use), with its library.",
	}, []string{"backend", "library"})
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aksid_http_requests_total",
		Help: "Requests answered, by the face that served them, status and Azure error code (AADSTS… for Entra, error.code for Graph and ARM; empty for success).",
	}, []string{"face", "status", "error_code"})
	r.tunnels = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aksid_proxy_tunnels_open",
		Help: "Proxy tunnels (CONNECT) open now.",
	})
	r.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aksid_tokens_issued_total",
		Help: "Tokens issued, by grant type and tenant.",
	}, []string{"grant", "tenant"})
	r.authz = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "aksid_authz_decision_seconds",
		Help:    "Azure RBAC decisions and their latency, by outcome (allowed, denied, error).",
		Buckets: []float64{1e-6, 5e-6, 2e-5, 1e-4, 5e-4, 2e-3, 1e-2, 0.1},
	}, []string{"decision"})
	r.store = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "aksid_store_seconds",
		Help:    "Store transactions and their latency, by kind (view, update) and outcome (ok, error).",
		Buckets: []float64{1e-5, 1e-4, 5e-4, 2e-3, 1e-2, 5e-2, 0.25, 1},
	}, []string{"op", "outcome"})
	r.storeRetries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "aksid_store_retries_total",
		Help: "Transactions run again after a serialization failure or deadlock (PostgreSQL).",
	})
	r.reg.MustRegister(r.signing, r.requests, r.tunnels, r.tokens, r.authz, r.store, r.storeRetries)
	return r
}

// SetSigningBackend records the backend chosen at start.
func (r *Registry) SetSigningBackend(backend, library string) {
	r.signing.Reset()
	r.signing.WithLabelValues(backend, library).Set(1)
}

// Request counts one answered request (server.Observer).
func (r *Registry) Request(face string, status int, code string) {
	if face == "" {
		face = "none"
	}
	r.requests.WithLabelValues(face, strconv.Itoa(status), r.codeLabel(code)).Inc()
}

// codeLabel is the error_code label for code: itself when it looks like a
// code and is among the first maxCodes seen, else "other".
func (r *Registry) codeLabel(code string) string {
	if code == "" {
		return ""
	}
	if !plausibleCode(code) {
		return "other"
	}
	r.codesMu.Lock()
	defer r.codesMu.Unlock()
	if r.codes[code] {
		return code
	}
	if len(r.codes) >= maxCodes {
		return "other"
	}
	r.codes[code] = true
	return code
}

// plausibleCode accepts what Azure's codes are made of: at most 64
// letters, digits, '_', '.' and '-'.
func plausibleCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// Tunnels changes the open-tunnel gauge (server.Observer).
func (r *Registry) Tunnels(delta int) { r.tunnels.Add(float64(delta)) }

// TokenIssued counts one token.
func (r *Registry) TokenIssued(grant, tenant string) { r.tokens.WithLabelValues(grant, tenant).Inc() }

// AuthzDecision records one RBAC decision and how long it took.
func (r *Registry) AuthzDecision(allowed bool, err error, d time.Duration) {
	outcome := "denied"
	switch {
	case err != nil:
		outcome = "error"
	case allowed:
		outcome = "allowed"
	}
	r.authz.WithLabelValues(outcome).Observe(d.Seconds())
}

// StoreRetry counts one transaction run again.
func (r *Registry) StoreRetry() { r.storeRetries.Inc() }

// Gatherer is what an exposition handler reads.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }
