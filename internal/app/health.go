package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/sts"
)

// healthz answers while the process serves at all (liveness).
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 when a request can be served: the store answers a
// read and the signing keys are loaded; else 503 with what is not ready,
// so a load balancer in front of replicas sends the request elsewhere.
func readyz(st store.Store, keys *sts.Keys) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]string{"store": "ok", "keys": "ok"}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := st.View(ctx, func(_ context.Context, tx store.Tx) error {
			_, err := tx.Get(kindMeta, keyCheckKey)
			return err
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			checks["store"] = "unreachable"
		}
		if !keys.Loaded() {
			checks["keys"] = "not loaded"
		}
		status := http.StatusOK
		for _, v := range checks {
			if v != "ok" {
				status = http.StatusServiceUnavailable
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(checks)
	}
}
