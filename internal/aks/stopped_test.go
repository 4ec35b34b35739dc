package aks

import (
	"context"
	"testing"

	"github.com/aksid/aksid/internal/azerr"
)

// TestStoppedClusterOnlyStartsOrDeletes: AKS's stop/start doc says a
// stopped cluster can only be started or deleted; every other write is
// its 409 OperationNotAllowed naming the action, and changes nothing.
// Reads still answer, and once started the same writes pass.
func TestStoppedClusterOnlyStartsOrDeletes(t *testing.T) {
	ctx := context.Background()
	s, _ := sealingService(t)
	id := clusterID("s", "rg", "c")
	pool := func(name, mode string) map[string]any {
		return map[string]any{"name": name, "mode": mode, "count": 3.0, "powerState": map[string]any{"code": "Running"}}
	}
	if err := s.save(ctx, id, record{TenantID: "t", Model: map[string]any{"id": id, "name": "c", "location": "westus2",
		"properties": map[string]any{"provisioningState": "Succeeded", "powerState": map[string]any{"code": "Running"},
			"currentKubernetesVersion": "1.34.4", "kubernetesVersion": "1.34.4",
			"agentPoolProfiles": []any{pool("nodepool1", "System"), pool("user1", "User")}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPowerState(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	// az sends back the pool it read, power state included.
	scale := func(n float64, power string) map[string]any {
		return map[string]any{"properties": map[string]any{"count": n, "powerState": map[string]any{"code": power}}}
	}
	refused := map[string]error{}
	_, refused["updating managed cluster"] = s.Put(ctx, PutRequest{TenantID: "t", Sub: "s", Group: "rg", Name: "c",
		Body: map[string]any{"location": "westus2", "tags": map[string]any{"a": "b"}, "properties": map[string]any{}}})
	_, refused["updating agent pool"] = s.PutPool(ctx, id, "user1", scale(5, "Stopped"))
	_, refused["creating agent pool"] = s.PutPool(ctx, id, "user2", map[string]any{"properties": map[string]any{"count": 1.0}})
	_, refused["starting agent pool"] = s.PutPool(ctx, id, "user1", map[string]any{"properties": map[string]any{"powerState": map[string]any{"code": "Running"}}})
	refused["deleting agent pool"] = s.DeletePool(ctx, id, "user1")
	refused["upgrading node image"] = s.UpgradeNodeImage(ctx, id, "nodepool1")
	refused["resetting service principal profile"] = s.ResetServicePrincipal(ctx, id, "client", "secret")
	refused["resetting AAD profile"] = s.ResetAAD(ctx, id, map[string]any{"serverAppSecret": "x"})
	refused["rotating service account signing keys"] = s.RotateServiceAccountSigningKeys(ctx, id)
	refused["rotating cluster certificates"] = s.RotateCertificates(ctx, id)
	for action, err := range refused {
		want := "managed cluster is in Provisioning State(Succeeded) and Power State(Stopped), " + action + " cannot be performed"
		if e, ok := azerr.As(err); !ok || e.Kind != azerr.Conflict || e.Code != "OperationNotAllowed" || e.Message != want {
			t.Errorf("%s on a stopped cluster: %v", action, err)
		}
	}

	m, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	props := m["properties"].(map[string]any)
	if n := len(props["agentPoolProfiles"].([]any)); n != 2 || m["tags"] != nil {
		t.Fatalf("refused writes changed the cluster: %d pools, tags %v", n, m["tags"])
	}
	if p, err := s.Pool(ctx, id, "user1"); err != nil || p["properties"].(map[string]any)["count"] != 3.0 {
		t.Fatalf("refused scale changed the pool: %v, %v", p, err)
	}

	if err := s.SetPowerState(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPool(ctx, id, "user1", scale(5, "Running")); err != nil {
		t.Fatalf("scale after start: %v", err)
	}
	if err := s.DeletePool(ctx, id, "user1"); err != nil {
		t.Fatalf("delete pool after start: %v", err)
	}
}
