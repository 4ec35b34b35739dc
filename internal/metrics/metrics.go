// Package metrics is aksid's Prometheus registry and the figures it exports.
package metrics

import (
	"strconv"
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
}

// New returns a registry with aksid's metrics registered.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.signing = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aksid_token_signing_backend",
		Help: "The RSA implementation that signs tokens (1 for the one in use), with its library.",
	}, []string{"backend", "library"})
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aksid_http_requests_total",
		Help: "Requests answered, by the face that served them and status.",
	}, []string{"face", "status"})
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
func (r *Registry) Request(face string, status int) {
	if face == "" {
		face = "none"
	}
	r.requests.WithLabelValues(face, strconv.Itoa(status)).Inc()
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
