package aks

import (
	"context"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// TestLastCheck: a cluster keeps its newest check at aksid's now, not
// one for a cluster that does not exist, and none once deleted.
func TestLastCheck(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewVirtual(clock.Wall{}, 0)
	s := New(Deps{Store: st, Clock: clk})
	id := clusterID("s", "rg", "c")
	if _, err := s.RecordCheck(ctx, id, []CheckResult{{Name: "public-ip", OK: true}}); err == nil {
		t.Fatal("a check was kept for a cluster that does not exist")
	} else if e, ok := azerr.As(err); !ok || e.Kind != azerr.NotFound {
		t.Fatalf("check of a missing cluster: %v", err)
	}
	if err := s.save(ctx, id, record{TenantID: "t", Model: map[string]any{"id": id, "name": "c", "properties": map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LastCheck(ctx, id); ok || err != nil {
		t.Fatalf("a new cluster has a last check: %v %v", ok, err)
	}
	if _, err := s.RecordCheck(ctx, id, []CheckResult{{Name: "public-ip", OK: true}}); err != nil {
		t.Fatal(err)
	}
	clk.SetOffset(48 * time.Hour)
	failed := []CheckResult{{Name: "public-ip", OK: true}, {Name: "subnet", Detail: "AuthorizationFailed: …"}}
	if _, err := s.RecordCheck(ctx, id, failed); err != nil {
		t.Fatal(err)
	}
	run, ok, err := s.LastCheck(ctx, "/SUBSCRIPTIONS/s/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/C")
	if err != nil || !ok || run.Passed() || len(run.Results) != 2 || run.Results[1].Detail != "AuthorizationFailed: …" ||
		time.Until(run.Time) < 47*time.Hour {
		t.Fatalf("last check %+v %v %v", run, ok, err)
	}
	if err := s.deleteCluster(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LastCheck(ctx, id); ok || err != nil {
		t.Fatalf("a deleted cluster keeps its check: %v %v", ok, err)
	}
}
