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
