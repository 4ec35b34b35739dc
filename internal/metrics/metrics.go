// Package metrics is aksid's Prometheus registry and the figures it exports.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Registry holds aksid's metrics. It is not Prometheus' global registry,
// so tests and replicas in one process do not collide.
type Registry struct {
	reg     *prometheus.Registry
	signing *prometheus.GaugeVec
}

// New returns a registry with aksid's metrics registered.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.signing = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "aksid_token_signing_backend",
		Help: "The RSA implementation that signs tokens (1 for the one in use), with its library.",
	}, []string{"backend", "library"})
	r.reg.MustRegister(r.signing)
	return r
}

// SetSigningBackend records the backend chosen at start.
func (r *Registry) SetSigningBackend(backend, library string) {
	r.signing.Reset()
	r.signing.WithLabelValues(backend, library).Set(1)
}

// Gatherer is what an exposition handler reads.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }
