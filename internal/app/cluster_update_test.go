package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/store"
)

// TestClusterUpdateKeepsWhatItIsSent: `az aks update` sends the cluster
// back with its changes; what no rule of aksid's acts on
// (autoUpgradeProfile, apiServerAccessProfile…) is kept as sent rather
// than dropped, the tier is taken at creation and in updates, what AKS
// fixes at creation is refused a change, and a Windows admin password is
// never stored or shown.
func TestClusterUpdateKeepsWhatItIsSent(t *testing.T) {
	s := startTest(t)
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		return s.armWant(t, admin, method, path, body, want)
	}
	call("PUT", sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	call("POST", sub+"/providers/Microsoft.ContainerService/register?api-version=2021-04-01", "", 200)
	url := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2022-11-01"
	c := call("PUT", url, `{"location":"westus2","sku":{"name":"Base","tier":"standard"},"identity":{"type":"SystemAssigned"},
		"properties":{"dnsPrefix":"c1","windowsProfile":{"adminUsername":"azureuser","adminPassword":"Sup3r-Secret-Passw0rd!"}}}`, 201)
	if c["sku"].(map[string]any)["tier"] != "Standard" {
		t.Fatalf("tier at creation: %v", c["sku"])
	}
	update := func(change func(m map[string]any), want int) map[string]any {
		t.Helper()
		m := call("GET", url, "", 200)
		change(m)
		b, _ := json.Marshal(m)
		return call("PUT", url, string(b), want)
	}
	update(func(m map[string]any) {
		p := m["properties"].(map[string]any)
		p["autoUpgradeProfile"] = map[string]any{"upgradeChannel": "stable", "nodeOSUpgradeChannel": "NodeImage"}
		p["apiServerAccessProfile"] = map[string]any{"authorizedIPRanges": []any{"203.0.113.0/24"}}
		m["sku"] = map[string]any{"name": "Base", "tier": "Free"}
	}, 200)
	got := call("GET", url, "", 200)
	p := got["properties"].(map[string]any)
	if p["autoUpgradeProfile"].(map[string]any)["upgradeChannel"] != "stable" ||
		p["apiServerAccessProfile"].(map[string]any)["authorizedIPRanges"].([]any)[0] != "203.0.113.0/24" || got["sku"].(map[string]any)["tier"] != "Free" {
		t.Fatalf("after update: %v %v", p, got["sku"])
	}
	for _, change := range []func(m map[string]any){
		func(m map[string]any) { m["properties"].(map[string]any)["dnsPrefix"] = "other" },
		func(m map[string]any) { m["properties"].(map[string]any)["nodeResourceGroup"] = "MC_other" },
		func(m map[string]any) { m["properties"].(map[string]any)["enableRBAC"] = false },
	} {
		if m := update(change, 400); m["error"].(map[string]any)["code"] != "PropertyChangeNotAllowed" {
			t.Fatalf("a change of what is fixed at creation: %v", m)
		}
	}
	// az 2.45's --uptime-sla asks for Paid, Standard's former name.
	if m := update(func(m map[string]any) { m["sku"] = map[string]any{"name": "Basic", "tier": "Paid"} }, 200); m["sku"].(map[string]any)["tier"] != "Standard" {
		t.Fatalf("--uptime-sla: %v", m["sku"])
	}
	if m := update(func(m map[string]any) { m["sku"] = map[string]any{"tier": "Gold"} }, 400); m["error"].(map[string]any)["code"] != "InvalidParameter" {
		t.Fatalf("an unknown tier: %v", m)
	}
	// The password, sent again in an update, is not kept either.
	update(func(m map[string]any) {
		m["properties"].(map[string]any)["windowsProfile"] = map[string]any{"adminUsername": "azureuser", "adminPassword": "Sup3r-Secret-Passw0rd!"}
	}, 200)
	_, _, raw := s.arm(t, admin, "GET", url, "")
	if strings.Contains(raw, "Sup3r-Secret") || !strings.Contains(raw, `"adminUsername":"azureuser"`) {
		t.Fatalf("the Windows profile as shown: %s", raw)
	}
	var stored []byte
	if err := s.st.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		stored, err = tx.Get("aks_cluster", strings.ToLower(sub+"/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"))
		return err
	}); err != nil || strings.Contains(string(stored), "Sup3r-Secret") || !strings.Contains(string(stored), "azureuser") {
		t.Fatalf("the cluster's record (%v) holds the Windows admin password, or no Windows profile at all", err)
	}
}
