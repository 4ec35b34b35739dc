package aks

import (
	"context"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store/sqlite"
)

func TestSecondOperationIsRefusedWhileOneRuns(t *testing.T) {
	st, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewVirtual(clock.Wall{}, 0)
	s := New(Deps{Store: st, Clock: clk})
	ctx := context.Background()
	id := "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
	if err := s.Begin(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(ctx, id); err == nil {
		t.Fatal("a second operation started")
	} else if e, ok := azerr.As(err); !ok || e.Code != "OperationNotAllowed" || e.Kind != azerr.Conflict {
		t.Fatalf("second operation: %v", err)
	}
	if err := s.Begin(ctx, id+"2"); err != nil {
		t.Fatalf("another cluster is not busy: %v", err)
	}
	s.End(ctx, id)
	if err := s.Begin(ctx, id); err != nil {
		t.Fatalf("after End: %v", err)
	}
	// A marker left by a dead process does not block forever.
	clk.SetOffset(11 * time.Minute)
	if err := s.Begin(ctx, id); err != nil {
		t.Fatalf("stale marker: %v", err)
	}
}
