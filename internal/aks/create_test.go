package aks

import (
	"testing"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// TestPutRefusesBodiesNotShapedAsClusters: a null body (which once
// panicked on a nil map) and properties, identity or tags that are not
// objects are 400 InvalidRequestContent, never a cluster with defaults.
func TestPutRefusesBodiesNotShapedAsClusters(t *testing.T) {
	st, err := sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Deps{Store: st, Clock: clock.NewVirtual(clock.Wall{}, 0)})
	for name, body := range map[string]map[string]any{
		"null body":            nil,
		"string properties":    {"location": "westus2", "properties": "x"},
		"boolean properties":   {"location": "westus2", "properties": true},
		"array properties":     {"location": "westus2", "properties": []any{}},
		"string identity":      {"location": "westus2", "identity": "SystemAssigned"},
		"number tags":          {"location": "westus2", "tags": 7.0},
		"properties, no place": {"properties": "x"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Put(t.Context(), PutRequest{TenantID: "t", Sub: "s", Group: "rg", Name: "c", Body: body})
			if e, ok := azerr.As(err); !ok || e.Kind != azerr.Invalid || e.Code != "InvalidRequestContent" {
				t.Fatalf("got %v", err)
			}
		})
	}
	if err := CheckBody(map[string]any{"location": "westus2", "properties": nil, "tags": nil}); err != nil {
		t.Fatalf("null members are absent members: %v", err)
	}
}

// TestLocalAccountsStayWithoutEntra: AKS refuses to disable local
// accounts on a cluster without Entra integration (since Kubernetes 1.25),
// at creation and in an update, and leaves the cluster as it was.
func TestLocalAccountsStayWithoutEntra(t *testing.T) {
	st, err := sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Deps{Store: st, Clock: clock.NewVirtual(clock.Wall{}, 0)})
	const want = "Since kubernetes version 1.25, disableLocalAccounts can only be set on Azure AD integration enabled cluster. Please integrate your cluster with AAD."
	refused := func(what string, err error) {
		t.Helper()
		if e, ok := azerr.As(err); !ok || e.Kind != azerr.Invalid || e.Code != "BadRequest" || e.Message != want {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = s.Put(t.Context(), PutRequest{TenantID: "t", Sub: "s", Group: "rg", Name: "c", Body: map[string]any{"location": "westus2",
		"properties": map[string]any{"disableLocalAccounts": true, "aadProfile": nil}}})
	refused("create", err)

	id := clusterID("s", "rg", "plain")
	if err := s.save(t.Context(), id, record{TenantID: "t", Model: map[string]any{"id": id, "name": "plain", "location": "westus2",
		"properties": map[string]any{"provisioningState": "Succeeded", "kubernetesVersion": KubernetesVersion, "currentKubernetesVersion": KubernetesVersion}}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(t.Context(), PutRequest{TenantID: "t", Sub: "s", Group: "rg", Name: "plain", Body: map[string]any{"location": "westus2",
		"properties": map[string]any{"disableLocalAccounts": true}}})
	refused("update", err)
	if k, err := s.KubeSpec(t.Context(), id); err != nil || k.ClientCA == nil {
		t.Fatalf("local accounts after the refused update: client CA %v, %v", k.ClientCA != nil, err)
	}
}

// TestPoolDefaultsFollowTheNetwork: a new pool's maxPods is AKS's default
// for the cluster's network plugin, its OS disk managed; what was asked
// for stays.
func TestPoolDefaultsFollowTheNetwork(t *testing.T) {
	for _, tc := range []struct {
		network map[string]any
		asked   any
		want    float64
	}{
		{nil, nil, 110},
		{map[string]any{"networkPlugin": "kubenet"}, nil, 110},
		{map[string]any{"networkPlugin": "azure"}, nil, 30},
		{map[string]any{"networkPlugin": "Azure", "networkPluginMode": "overlay"}, nil, 250},
		{map[string]any{"networkPlugin": "azure"}, 50.0, 50},
	} {
		props := map[string]any{}
		if tc.network != nil {
			props["networkProfile"] = tc.network
		}
		pool := map[string]any{"maxPods": tc.asked}
		poolDefaults(props, pool)
		if pool["maxPods"] != tc.want || pool["osDiskType"] != "Managed" || pool["kubeletDiskType"] != "OS" {
			t.Errorf("network %v, asked %v: %v", tc.network, tc.asked, pool)
		}
	}
}
