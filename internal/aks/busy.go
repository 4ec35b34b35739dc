package aks

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindBusy = "aks_busy" // lower(id) → start time of the operation in progress
	// staleAfter frees a marker left by a process that died mid-operation.
	staleAfter = 10 * time.Minute
)

// Begin marks an operation in progress on a cluster; while it runs, a
// second one is refused with 409 OperationNotAllowed, as AKS does. Call
// End when the operation is over.
func (s *Service) Begin(ctx context.Context, id string) error {
	key := strings.ToLower(id)
	now := s.clk.Now()
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var since time.Time
		err := store.GetJSON(tx, kindBusy, key, &since)
		if err == nil && now.Sub(since) < staleAfter {
			return azerr.New(azerr.Conflict, "OperationNotAllowed",
				"Operation is not allowed because there's an in progress operation on managed cluster '%s' started at %s. Please try again later.",
				id[strings.LastIndexByte(id, '/')+1:], since.UTC().Format(time.RFC3339))
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return store.PutJSON(tx, kindBusy, key, now)
	})
}

// End clears the in-progress marker.
func (s *Service) End(ctx context.Context, id string) {
	_ = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		err := tx.Delete(kindBusy, strings.ToLower(id))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}
