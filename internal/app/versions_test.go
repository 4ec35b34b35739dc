package app

import (
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/apiserver/kassrc"
)

// TestClustersRunTheirAPIServersVersion: the one Kubernetes version ARM
// offers is the carried kube-apiserver's, so `az aks show`, the nodes and
// `kubectl version` agree.
func TestClustersRunTheirAPIServersVersion(t *testing.T) {
	v, err := kassrc.Version()
	if err != nil || strings.TrimPrefix(v, "v") != aks.KubernetesVersion {
		t.Fatalf("carried kube-apiserver %s (%v), clusters offered %s", v, err, aks.KubernetesVersion)
	}
}

// TestKubernetesVersions: `az aks get-versions` (both shapes),
// `get-upgrades`, and versions refused as AKS refuses one its region does
// not offer, at creation, in an upgrade and for a new pool.
func TestKubernetesVersions(t *testing.T) {
	s := startTest(t)
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		return s.armWant(t, admin, method, path, body, want)
	}
	refused := func(method, path, body string) {
		t.Helper()
		if m := call(method, path, body, 400); m["error"].(map[string]any)["code"] != "K8sVersionNotSupported" ||
			!strings.Contains(m["error"].(map[string]any)["message"].(string), "az aks get-versions") {
			t.Fatalf("%s %s: %v", method, path, m)
		}
	}
	orch := call("GET", sub+"/providers/Microsoft.ContainerService/locations/eastus/orchestrators?api-version=2019-04-01&resource-type=managedClusters", "", 200)
	o := orch["properties"].(map[string]any)["orchestrators"].([]any)[0].(map[string]any)
	if o["orchestratorVersion"] != aks.KubernetesVersion || o["default"] != true || o["orchestratorType"] != "Kubernetes" {
		t.Fatalf("orchestrators: %v", orch)
	}
	kv := call("GET", sub+"/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions?api-version=2024-02-01", "", 200)
	if val := kv["values"].([]any)[0].(map[string]any); !strings.HasPrefix(aks.KubernetesVersion, val["version"].(string)+".") ||
		val["patchVersions"].(map[string]any)[aks.KubernetesVersion] == nil {
		t.Fatalf("kubernetesVersions: %v", kv)
	}
	st, m, raw := s.arm(t, admin, "GET", sub+"/providers/Microsoft.ContainerService/locations/atlantis/orchestrators?api-version=2019-04-01", "")
	if st != 400 || m["error"].(map[string]any)["code"] != "LocationNotAvailableForResourceType" {
		t.Fatalf("an unknown location: %d %s", st, raw)
	}

	call("PUT", sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	call("POST", sub+"/providers/Microsoft.ContainerService/register?api-version=2021-04-01", "", 200)
	cluster := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/"
	const v = "?api-version=2022-11-01"
	refused("PUT", cluster+"old"+v, `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"kubernetesVersion":"1.28.3"}}`)
	refused("PUT", cluster+"old"+v, `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"agentPoolProfiles":[{"name":"np","orchestratorVersion":"1.29"}]}}`)
	minor := aks.KubernetesVersion[:strings.LastIndexByte(aks.KubernetesVersion, '.')]
	c := call("PUT", cluster+"c1"+v, `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"kubernetesVersion":"`+minor+`"}}`, 201)
	props := c["properties"].(map[string]any)
	if props["kubernetesVersion"] != aks.KubernetesVersion || props["currentKubernetesVersion"] != aks.KubernetesVersion ||
		props["agentPoolProfiles"].([]any)[0].(map[string]any)["orchestratorVersion"] != aks.KubernetesVersion {
		t.Fatalf("a cluster asked for %s: %v", minor, props)
	}
	up := call("GET", cluster+"c1/upgradeProfiles/default"+v, "", 200)["properties"].(map[string]any)
	if cp := up["controlPlaneProfile"].(map[string]any); cp["kubernetesVersion"] != aks.KubernetesVersion || cp["upgrades"] != nil ||
		len(up["agentPoolProfiles"].([]any)) != 1 {
		t.Fatalf("upgrade profile: %v", up)
	}
	refused("PUT", cluster+"c1"+v, `{"location":"westus2","properties":{"kubernetesVersion":"1.99.0"}}`)
	refused("PUT", cluster+"c1/agentPools/pool2"+v, `{"properties":{"orchestratorVersion":"1.99"}}`)
	// The same version, however spelt, is no change.
	call("PUT", cluster+"c1"+v, `{"location":"westus2","properties":{"kubernetesVersion":"`+minor+`"}}`, 200)
}
