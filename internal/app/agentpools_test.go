package app

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestAgentPools is Microsoft.ContainerService's managedClusters/agentPools
// (`az aks nodepool list|show|add|scale|update|delete`) over ARM: pools are
// the cluster's agentPoolProfiles, refused as AKS refuses, under RBAC.
func TestAgentPools(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	call := func(tok, method, path, body string, want int) map[string]any {
		t.Helper()
		return s.armWant(t, tok, method, path, body, want)
	}
	refused := func(tok, method, path, body string, want int, code string) {
		t.Helper()
		if m := call(tok, method, path, body, want); m["error"].(map[string]any)["code"] != code {
			t.Fatalf("%s %s: %v, want %s", method, path, m, code)
		}
	}
	call(admin, "PUT", sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	call(admin, "POST", sub+"/providers/Microsoft.ContainerService/register?api-version=2021-04-01", "", 200)
	cluster := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	const v = "?api-version=2022-11-01"
	call(admin, "PUT", cluster+v, `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"c1","agentPoolProfiles":[{"name":"nodepool1","count":2,"mode":"System"}]}}`, 201)

	// A new cluster's pools are held to the same rules.
	for body, code := range map[string]string{
		`[{"name":"Pool_1","count":1}]`:                       "InvalidParameter",
		`[{"name":"np1","count":1,"osType":"Windows"}]`:       "InvalidParameter",
		`[{"name":"np1","count":0,"mode":"System"}]`:          "InvalidParameter",
		`[{"name":"np1","count":1},{"name":"np1","count":1}]`: "InvalidParameter",
		`[{"name":"np1","count":1,"mode":"Spot"}]`:            "InvalidParameter",
		`[{"name":"np1","count":2,"mode":"User"}]`:            "OperationNotAllowed",
		`[{"name":"np1","count":1001}]`:                       "InvalidParameter",
	} {
		refused(admin, "PUT", sub+"/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/bad"+v,
			`{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"bad","agentPoolProfiles":`+body+`}}`, 400, code)
	}

	list := call(admin, "GET", cluster+"/agentPools"+v, "", 200)["value"].([]any)
	first := list[0].(map[string]any)
	if len(list) != 1 || first["name"] != "nodepool1" || first["type"] != "Microsoft.ContainerService/managedClusters/agentPools" ||
		!strings.HasSuffix(first["id"].(string), "/managedClusters/c1/agentPools/nodepool1") || first["properties"].(map[string]any)["count"] != 2.0 {
		t.Fatalf("pools: %v", list)
	}

	pool2 := cluster + "/agentPools/pool2" + v
	p := call(admin, "PUT", pool2, `{"properties":{"count":2,"vmSize":"Standard_D4s_v3","nodeLabels":{"team":"a"}}}`, 201)["properties"].(map[string]any)
	if p["mode"] != "User" || p["count"] != 2.0 || p["vmSize"] != "Standard_D4s_v3" || p["orchestratorVersion"] == "" || p["provisioningState"] != "Succeeded" {
		t.Fatalf("new pool: %v", p)
	}
	if p := call(admin, "PUT", pool2, `{"properties":{"count":5}}`, 200)["properties"].(map[string]any); p["count"] != 5.0 || p["nodeLabels"] == nil {
		t.Fatalf("scaled pool: %v", p)
	}
	spec, err := s.Ops.clusters.aks.KubeSpec(ctx, cluster)
	if err != nil || len(spec.Pools) != 2 || spec.Pools[1].Name != "pool2" || spec.Pools[1].Count != 5 {
		t.Fatalf("the nodes' view of the pools: %+v %v", spec.Pools, err)
	}
	refused(admin, "PUT", pool2, `{"properties":{"vmSize":"Standard_D8s_v3"}}`, 400, "PropertyChangeNotAllowed")
	refused(admin, "PUT", cluster+"/agentPools/Pool_3"+v, `{"properties":{}}`, 400, "InvalidParameter")
	refused(admin, "PUT", cluster+"/agentPools/win"+v, `{"properties":{"osType":"Windows"}}`, 400, "InvalidParameter")
	refused(admin, "PUT", cluster+"/agentPools/nodepool1"+v, `{"properties":{"count":0}}`, 400, "InvalidParameter")
	refused(admin, "GET", cluster+"/agentPools/nope"+v, "", 404, "ResourceNotFound")
	refused(admin, "GET", sub+"/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/none/agentPools"+v, "", 404, "ResourceNotFound")

	// A node image upgrade (az aks nodepool upgrade --node-image-only).
	// az aks nodepool get-upgrades names the image it brings.
	before := call(admin, "GET", pool2, "", 200)["properties"].(map[string]any)["nodeImageVersion"]
	prof := call(admin, "GET", cluster+"/agentPools/pool2/upgradeProfiles/default"+v, "", 200)
	pp := prof["properties"].(map[string]any)
	if prof["name"] != "default" || prof["type"] != "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles" ||
		!strings.HasSuffix(prof["id"].(string), "/agentPools/pool2/upgradeProfiles/default") || pp["kubernetesVersion"] == "" ||
		pp["upgrades"] != nil || pp["latestNodeImageVersion"] == before {
		t.Fatalf("pool upgrade profile: %v (image now %v)", prof, before)
	}
	refused(admin, "GET", cluster+"/agentPools/nope/upgradeProfiles/default"+v, "", 404, "ResourceNotFound")
	call(admin, "POST", cluster+"/agentPools/pool2/upgradeNodeImageVersion"+v, "", 202)
	if after := call(admin, "GET", pool2, "", 200)["properties"].(map[string]any)["nodeImageVersion"]; after == before || after != pp["latestNodeImageVersion"] {
		t.Fatalf("node image %v after the upgrade from %v; the profile said %v", after, before, pp["latestNodeImageVersion"])
	}

	// az aks scale (a PUT of the cluster) holds counts to the same rules: a
	// system pool keeps a node, a user pool may have none.
	scale := func(pool string, n, want int) {
		t.Helper()
		call(admin, "PUT", cluster+v, `{"location":"westus2","properties":{"agentPoolProfiles":[{"name":"`+pool+`","count":`+strconv.Itoa(n)+`}]}}`, want)
	}
	refused(admin, "PUT", cluster+v, `{"location":"westus2","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":0}]}}`, 400, "InvalidParameter")
	scale("pool2", 0, 200)
	if c := call(admin, "GET", pool2, "", 200)["properties"].(map[string]any)["count"]; c != 0.0 {
		t.Fatalf("user pool scaled to 0 through the cluster: count %v", c)
	}
	scale("pool2", 5, 200)

	// az aks nodepool stop and start: a user pool keeps its count but has
	// no nodes while stopped; a system pool does not stop.
	refused(admin, "PUT", cluster+"/agentPools/nodepool1"+v, `{"properties":{"powerState":{"code":"Stopped"}}}`, 400, "OperationNotAllowed")
	refused(admin, "PUT", pool2, `{"properties":{"powerState":{"code":"Paused"}}}`, 400, "InvalidParameter")
	power := func(code string, nodes int) {
		t.Helper()
		p := call(admin, "PUT", pool2, `{"properties":{"powerState":{"code":"`+code+`"}}}`, 200)["properties"].(map[string]any)
		if p["powerState"].(map[string]any)["code"] != code || p["count"] != 5.0 {
			t.Fatalf("pool after %s: %v", code, p)
		}
		spec, err := s.Ops.clusters.aks.KubeSpec(ctx, cluster)
		if err != nil || spec.Pools[1].Count != nodes {
			t.Fatalf("pool2's nodes when %s: %+v %v, want %d", code, spec.Pools, err, nodes)
		}
	}
	power("Stopped", 0)
	refused(admin, "PUT", pool2, `{"properties":{"mode":"System"}}`, 400, "OperationNotAllowed")
	power("Running", 5)
	// On a stopped cluster (az aks stop) every pool is stopped with it and,
	// as AKS's stop/start doc says, takes no change until the cluster
	// starts: no label, and no pool starts alone.
	if err := s.Ops.clusters.aks.SetPowerState(ctx, cluster, false); err != nil {
		t.Fatal(err)
	}
	refused(admin, "PUT", cluster+"/agentPools/nodepool1"+v, `{"properties":{"nodeLabels":{"tier":"sys"}}}`, 409, "OperationNotAllowed")
	refused(admin, "PUT", pool2, `{"properties":{"powerState":{"code":"Running"}}}`, 409, "OperationNotAllowed")
	if err := s.Ops.clusters.aks.SetPowerState(ctx, cluster, true); err != nil {
		t.Fatal(err)
	}
	refused(admin, "POST", cluster+"/agentPools/nope/upgradeNodeImageVersion"+v, "", 404, "ResourceNotFound")
	// aksid's count of a pool's upgrades is its own: ARM never shows it.
	for _, path := range []string{cluster + v, pool2, cluster + "/agentPools" + v, sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters" + v} {
		if _, _, raw := s.arm(t, admin, "GET", path, ""); strings.Contains(raw, "nodeImageUpgrades") {
			t.Fatalf("GET %s shows aksid's bookkeeping: %s", path, raw)
		}
	}

	// The last system pool stays: moved to User, or deleted.
	refused(admin, "PUT", cluster+"/agentPools/nodepool1"+v, `{"properties":{"mode":"User"}}`, 400, "OperationNotAllowed")
	refused(admin, "DELETE", cluster+"/agentPools/nodepool1"+v, "", 400, "OperationNotAllowed")
	call(admin, "PUT", pool2, `{"properties":{"mode":"System"}}`, 200)
	call(admin, "DELETE", cluster+"/agentPools/nodepool1"+v, "", 202)
	call(admin, "DELETE", cluster+"/agentPools/nodepool1"+v, "", 204)
	if list := call(admin, "GET", cluster+"/agentPools"+v, "", 200)["value"].([]any); len(list) != 1 || list[0].(map[string]any)["name"] != "pool2" {
		t.Fatalf("pools after delete: %v", list)
	}

	// Reader reads pools but changes none.
	sp, err := s.Ops.CreateSP(ctx, "pool-reader", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	principal, err := s.Ops.dir.ServicePrincipal(ctx, s.Creds.TenantID, sp.AppID)
	if err != nil {
		t.Fatal(err)
	}
	call(admin, "PUT", sub+"/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
		`{"properties":{"roleDefinitionId":"`+sub+`/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"`+principal.ObjectID+`","principalType":"ServicePrincipal"}}`, 201)
	reader := s.token(t, sp.AppID, *sp.Password, "https://management.core.windows.net//.default")
	call(reader, "GET", cluster+"/agentPools"+v, "", 200)
	refused(reader, "PUT", cluster+"/agentPools/pool3"+v, `{"properties":{}}`, 403, "AuthorizationFailed")
	refused(reader, "DELETE", pool2, "", 403, "AuthorizationFailed")
}
