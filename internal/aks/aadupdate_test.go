package aks

import (
	"reflect"
	"testing"
)

func TestUpdateAAD(t *testing.T) {
	const g1, g2 = "0b0b0b0b-0000-4000-8000-000000000001", "0b0b0b0b-0000-4000-8000-000000000002"
	// Managed Entra on a cluster without it, then Azure RBAC and new groups.
	props := map[string]any{}
	if err := updateAAD(props, map[string]any{"managed": true, "adminGroupObjectIDs": []any{g1}}); err != nil {
		t.Fatal(err)
	}
	if err := updateAAD(props, map[string]any{"managed": true, "enableAzureRBAC": true, "adminGroupObjectIDs": []any{g1, g2}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"managed": true, "enableAzureRBAC": true, "adminGroupObjectIDs": []any{g1, g2}}
	if !reflect.DeepEqual(props["aadProfile"], want) {
		t.Fatalf("aadProfile %v, want %v", props["aadProfile"], want)
	}
	for name, tc := range map[string]struct{ cur, asked map[string]any }{
		"managed off":      {map[string]any{"managed": true}, map[string]any{"managed": false}},
		"legacy on later":  {nil, map[string]any{"serverAppID": g1}},
		"group not a GUID": {nil, map[string]any{"managed": true, "adminGroupObjectIDs": []any{"admins"}}},
	} {
		props := map[string]any{}
		if tc.cur != nil {
			props["aadProfile"] = tc.cur
		}
		if err := updateAAD(props, tc.asked); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A legacy profile migrates to managed Entra.
	props = map[string]any{"aadProfile": map[string]any{"serverAppID": g1, "clientAppID": g2}}
	if err := updateAAD(props, map[string]any{"managed": true}); err != nil || props["aadProfile"].(map[string]any)["serverAppID"] != nil {
		t.Fatalf("legacy → managed: %v %v", err, props["aadProfile"])
	}
}

// TestManagedEntraShowsItsTenant: turned on without --aad-tenant-id,
// managed Entra names the cluster's tenant, as AKS shows it; a tenant
// asked for stays.
func TestManagedEntraShowsItsTenant(t *testing.T) {
	s, _ := sealingService(t)
	const tenant, other = "22e5b5db-8b5f-42f5-80ec-f411e716d348", "0b0b0b0b-2222-3333-4444-555555555555"
	id := clusterID("s", "rg", "plain")
	if err := s.save(t.Context(), id, record{TenantID: tenant, Model: map[string]any{"id": id, "name": "plain", "location": "westus2",
		"properties": map[string]any{"provisioningState": "Succeeded", "kubernetesVersion": KubernetesVersion, "currentKubernetesVersion": KubernetesVersion}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ asked, want string }{{"", tenant}, {other, other}} {
		aad := map[string]any{"managed": true}
		if tc.asked != "" {
			aad["tenantID"] = tc.asked
		}
		res, err := s.Put(t.Context(), PutRequest{TenantID: tenant, Sub: "s", Group: "rg", Name: "plain", Body: map[string]any{"location": "westus2",
			"properties": map[string]any{"aadProfile": aad}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Model["properties"].(map[string]any)["aadProfile"].(map[string]any)["tenantID"]; got != tc.want {
			t.Fatalf("asked tenant %q: aadProfile.tenantID %v, want %s", tc.asked, got, tc.want)
		}
	}
	// Stored without it (as an older aksid stored clusters): read and listed with it.
	old := clusterID("s", "rg", "older")
	if err := s.save(t.Context(), old, record{TenantID: tenant, Model: map[string]any{"id": old, "name": "older", "location": "westus2",
		"properties": map[string]any{"aadProfile": map[string]any{"managed": true}}}}); err != nil {
		t.Fatal(err)
	}
	tenantOf := func(m map[string]any) any {
		return m["properties"].(map[string]any)["aadProfile"].(map[string]any)["tenantID"]
	}
	m, err := s.Get(t.Context(), old)
	if err != nil || tenantOf(m) != tenant {
		t.Fatalf("an older cluster's aadProfile: %v, %v", m["properties"], err)
	}
	ms, err := s.List(t.Context(), "/subscriptions/s/resourcegroups/rg")
	if err != nil || len(ms) != 2 || ms[0]["name"] != "older" || tenantOf(ms[0]) != tenant {
		t.Fatalf("listed: %v, %v", ms, err)
	}
}
