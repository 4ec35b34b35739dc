package metrics

import (
	"context"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// timedStore times each outermost transaction of a store.
type timedStore struct {
	store.Store
	r *Registry
}

// Store returns st reporting its transactions' latency to r. Nested
// transactions (fn's ctx passed down) are part of their outer one.
func (r *Registry) Store(st store.Store) store.Store { return &timedStore{Store: st, r: r} }

type nestedKey struct{}

func (t *timedStore) View(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return t.timed(ctx, "view", t.Store.View, fn)
}

func (t *timedStore) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return t.timed(ctx, "update", t.Store.Update, fn)
}

func (t *timedStore) timed(ctx context.Context, op string, run func(context.Context, func(context.Context, store.Tx) error) error,
	fn func(context.Context, store.Tx) error) error {
	if ctx.Value(nestedKey{}) != nil {
		return run(ctx, fn)
	}
	start := time.Now()
	err := run(context.WithValue(ctx, nestedKey{}, true), fn)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	t.r.store.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
	return err
}
