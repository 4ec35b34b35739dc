package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aksid/aksid/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// adminListener is the operator's port: plain HTTP on loopback, apart from
// the faces, serving GET /metrics (Prometheus), /healthz and /readyz.
// Plain HTTP because a scraper then needs neither aksid's CA nor the
// proxy; loopback because aksid listens nowhere else. Its requests are
// neither access-logged nor counted: a scrape every few seconds would
// drown the faces' lines.
type adminListener struct {
	srv *http.Server
	url string // "" when disabled
}

// startAdmin serves the operator's endpoints on addr ("" any free loopback
// port, "off" none).
func startAdmin(addr string, reg *metrics.Registry, ready http.Handler, log *slog.Logger) (*adminListener, error) {
	ln, err := listenLoopback("--admin-addr", addr)
	if err != nil || ln == nil {
		return &adminListener{}, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg.Gatherer(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", ready)
	a := &adminListener{url: plainURL(ln), srv: &http.Server{Handler: mux,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return a, nil
}

// shutdown stops the listener, waiting for scrapes in flight.
func (a *adminListener) shutdown(ctx context.Context) error {
	if a == nil || a.srv == nil {
		return nil
	}
	return a.srv.Shutdown(ctx)
}

// closeNow stops the listener at once (a start that failed later on).
func (a *adminListener) closeNow() {
	if a != nil && a.srv != nil {
		_ = a.srv.Close()
	}
}
