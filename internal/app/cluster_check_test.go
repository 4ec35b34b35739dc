package app

import (
	"context"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/cloudprovider"
	"github.com/google/uuid"
)

const (
	networkContributor = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	acrPullRole        = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	contributor        = "b24988ac-6180-42a0-ab88-20f7382dd24c"
)

func checkLines(checks []cloudprovider.Check) string {
	var out []string
	for _, c := range checks {
		if c.OK {
			out = append(out, "PASS "+c.Name)
		} else {
			out = append(out, "FAIL "+c.Name+": "+c.Detail)
		}
	}
	return strings.Join(out, "\n")
}

// TestClusterIdentityChecksInProcess drives the cloud provider through
// the real router: the cluster's principal gets Contributor on its node
// resource group from AKS, and needs grants for its subnet, disks and
// registries; the network face enforces registration, RBAC and linked
// access; group and cluster deletion leave no network records behind.
func TestClusterIdentityChecksInProcess(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	must := func(status int, want int, raw string) {
		t.Helper()
		if status != want {
			t.Fatalf("status %d, want %d: %s", status, want, raw)
		}
	}
	put := func(tok, path, body string, want int) map[string]any {
		t.Helper()
		st, m, raw := s.arm(t, tok, "PUT", path, body)
		must(st, want, raw)
		return m
	}
	assign := func(scope, role, principal string) {
		t.Helper()
		put(admin, scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
			`{"properties":{"roleDefinitionId":"`+sub+`/providers/Microsoft.Authorization/roleDefinitions/`+role+`","principalId":"`+principal+`","principalType":"ServicePrincipal"}}`, 201)
	}
	for _, g := range []string{"rg", "net-rg", "data"} {
		put(admin, sub+"/resourcegroups/"+g+"?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	}
	vnetURL := sub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet1?api-version=2022-01-01"
	vnetBody := `{"location":"westus2","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"nodes","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`
	if st, m, raw := s.arm(t, admin, "PUT", vnetURL, vnetBody); st != 409 || m["error"].(map[string]any)["code"] != "MissingSubscriptionRegistration" {
		t.Fatalf("vnet before registering Microsoft.Network: %d %s", st, raw)
	}
	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.Network", "Microsoft.Compute", "Microsoft.ContainerRegistry", "Microsoft.ManagedIdentity"} {
		st, _, raw := s.arm(t, admin, "POST", sub+"/providers/"+ns+"/register?api-version=2021-04-01", "")
		must(st, 200, raw)
	}
	vnet := put(admin, vnetURL, vnetBody, 201)
	subnet := vnet["properties"].(map[string]any)["subnets"].([]any)[0].(map[string]any)["id"].(string)
	if st, m, raw := s.arm(t, admin, "GET", subnet+"?api-version=2022-07-01", ""); st != 200 || m["name"] != "nodes" {
		t.Fatalf("subnet by its ID: %d %s", st, raw)
	}
	disk := put(admin, sub+"/resourceGroups/data/providers/Microsoft.Compute/disks/d1?api-version=2022-07-02", `{"location":"westus2","properties":{"diskSizeGB":8,"creationData":{"createOption":"Empty"}}}`, 201)["id"].(string)
	acr := put(admin, sub+"/resourceGroups/data/providers/Microsoft.ContainerRegistry/registries/acr1aksid?api-version=2022-02-01-preview", `{"location":"westus2","sku":{"name":"Basic"}}`, 201)
	if acr["properties"].(map[string]any)["loginServer"] != "acr1aksid.azurecr.io" {
		t.Fatalf("registry: %v", acr)
	}

	sp, err := s.Ops.CreateSP(ctx, "cluster-sp", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	spObj, err := s.Ops.dir.ServicePrincipal(ctx, s.Creds.TenantID, sp.AppID)
	if err != nil {
		t.Fatal(err)
	}
	clusterURL := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2023-08-01"
	put(admin, clusterURL, `{"location":"westus2","properties":{"dnsPrefix":"c1","servicePrincipalProfile":{"clientId":"`+sp.AppID+`","secret":"`+*sp.Password+`"},
		"agentPoolProfiles":[{"name":"nodepool1","count":1,"vnetSubnetID":"`+subnet+`"}]}}`, 201)
	id, err := ClusterID("rg/c1")
	if err != nil {
		t.Fatal(err)
	}
	req := cloudprovider.Request{ClusterID: id, Disks: []string{disk}, Registries: []string{acr["id"].(string)}}
	checks, err := s.Ops.CheckCluster(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got := checkLines(checks)
	for _, want := range []string{"PASS public-ip\nPASS load-balancer\nFAIL subnet: AuthorizationFailed: The client '" + spObj.ObjectID + "' with object id '" + spObj.ObjectID + "' does not have authorization to perform action 'Microsoft.Network/virtualNetworks/subnets/read'",
		"FAIL disk/d1: AuthorizationFailed:", "FAIL registry/acr1aksid: AuthorizationFailed:"} {
		if !strings.Contains(got, want) {
			t.Fatalf("before any grant, want %q in:\n%s", want, got)
		}
	}
	assign(subnet, networkContributor, spObj.ObjectID)
	assign(disk, contributor, spObj.ObjectID)
	assign(acr["id"].(string), acrPullRole, spObj.ObjectID)
	if checks, err = s.Ops.CheckCluster(ctx, req); err != nil || strings.Contains(checkLines(checks), "FAIL") {
		t.Fatalf("after the grants: %v\n%s", err, checkLines(checks))
	}
	events, err := s.Ops.clusters.aks.Events(ctx, id)
	if err != nil || len(events) != 10 || events[2].Type != "Warning" || events[9].Type != "Normal" || events[0].Time.IsZero() {
		t.Fatalf("events: %v %+v", err, events)
	}

	// The face's refusals, and the subscription-wide list.
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"PUT", vnetURL, `{"location":`, 400, "InvalidRequestContent"},
		{"PUT", sub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/v2?api-version=2022-01-01", `{"properties":{}}`, 400, "LocationRequired"},
		{"GET", sub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet1?api-version=1999-01-01", "", 400, "InvalidApiVersionParameter"},
		{"GET", sub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworkTaps/t?api-version=2022-01-01", "", 404, "InvalidResourceType"},
		{"GET", sub + "/resourceGroups/nope/providers/Microsoft.Network/virtualNetworks/vnet1?api-version=2022-01-01", "", 404, "ResourceGroupNotFound"},
		{"GET", subnet + "x?api-version=2022-01-01", "", 404, "NotFound"},
		{"PUT", sub + "/resourceGroups/net-rg/providers/Microsoft.Network/loadBalancers/lb?api-version=2022-07-01",
			`{"location":"westus2","properties":{"frontendIPConfigurations":[{"name":"fe","properties":{"subnet":{"id":"` + subnet + `x"}}}]}}`, 400, "InvalidResourceReference"},
	} {
		st, m, raw := s.arm(t, admin, c.method, c.path, c.body)
		if e, _ := m["error"].(map[string]any); st != c.status || e["code"] != c.code || strings.Contains(raw, ".go:") {
			t.Fatalf("%s %s: %d %s, want %d %s", c.method, c.path, st, raw, c.status, c.code)
		}
	}
	if st, m, raw := s.arm(t, admin, "GET", sub+"/providers/Microsoft.Network/virtualNetworks?api-version=2022-01-01", ""); st != 200 || len(m["value"].([]any)) != 1 {
		t.Fatalf("subscription-wide list: %d %s", st, raw)
	}

	// Linked access: the principal may write load balancers in its node
	// group but not join a public IP elsewhere.
	spTok := s.token(t, sp.AppID, *sp.Password, "https://management.core.windows.net//.default")
	foreignIP := put(admin, sub+"/resourceGroups/data/providers/Microsoft.Network/publicIPAddresses/ip2?api-version=2022-07-01", `{"location":"westus2"}`, 201)["id"].(string)
	st, m, raw := s.arm(t, spTok, "PUT", sub+"/resourceGroups/MC_rg_c1_westus2/providers/Microsoft.Network/loadBalancers/lb2?api-version=2022-07-01",
		`{"location":"westus2","properties":{"frontendIPConfigurations":[{"name":"fe","properties":{"publicIPAddress":{"id":"`+foreignIP+`"}}}]}}`)
	if st != 403 || m["error"].(map[string]any)["code"] != "LinkedAuthorizationFailed" || !strings.Contains(raw, "publicIPAddresses/join/action") {
		t.Fatalf("linked access: %d %s", st, raw)
	}
	if st, m, raw := s.arm(t, spTok, "GET", sub+"/resourceGroups/MC_rg_c1_westus2/providers/Microsoft.Network/loadBalancers?api-version=2022-07-01", ""); st != 200 || len(m["value"].([]any)) != 1 {
		t.Fatalf("list in the node group: %d %s", st, raw)
	}

	// A managed-identity cluster's system-assigned identity gets the node
	// group too; it has no subnet, so no subnet check.
	mi := put(admin, sub+"/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c2?api-version=2023-08-01", `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"c2"}}`, 201)
	checks, err = s.Ops.CheckCluster(ctx, cloudprovider.Request{ClusterID: mi["id"].(string)})
	if err != nil || checkLines(checks) != "PASS public-ip\nPASS load-balancer" {
		t.Fatalf("managed identity cluster: %v\n%s", err, checkLines(checks))
	}
	// A user-assigned control-plane identity acts as itself; image pulls
	// are the kubelet identity's (what `az aks update --attach-acr` grants
	// AcrPull to).
	uai := put(admin, sub+"/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cp-identity?api-version=2023-01-31", `{"location":"westus2"}`, 201)
	c3 := put(admin, sub+"/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c3?api-version=2023-08-01",
		`{"location":"westus2","identity":{"type":"UserAssigned","userAssignedIdentities":{"`+uai["id"].(string)+`":{}}},"properties":{"dnsPrefix":"c3"}}`, 201)
	c3ID := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c3"
	checks, err = s.Ops.CheckCluster(ctx, cloudprovider.Request{ClusterID: c3ID, Registries: []string{acr["id"].(string)}})
	kubeletOID := c3["properties"].(map[string]any)["identityProfile"].(map[string]any)["kubeletidentity"].(map[string]any)["objectId"].(string)
	if err != nil || !strings.HasPrefix(checkLines(checks), "PASS public-ip\nPASS load-balancer\nFAIL registry/acr1aksid: AuthorizationFailed: The client '"+kubeletOID+"'") {
		t.Fatalf("user-assigned identity cluster: %v\n%s", err, checkLines(checks))
	}
	assign(acr["id"].(string), acrPullRole, kubeletOID)
	checks, err = s.Ops.CheckCluster(ctx, cloudprovider.Request{ClusterID: c3ID, Registries: []string{acr["id"].(string)}})
	if err != nil || checkLines(checks) != "PASS public-ip\nPASS load-balancer\nPASS registry/acr1aksid" {
		t.Fatalf("after AcrPull for the kubelet identity: %v\n%s", err, checkLines(checks))
	}
	if doc, err := s.Ops.AzureJSON(ctx, id); err != nil || doc["aadClientSecret"] != *sp.Password {
		t.Fatalf("azure.json: %v %v", doc, err)
	}

	// Deleting a group or a cluster takes the network records along.
	st, _, raw = s.arm(t, admin, "DELETE", sub+"/resourcegroups/data?api-version=2021-04-01", "")
	must(st, 202, raw)
	st, _, raw = s.arm(t, admin, "DELETE", clusterURL, "")
	must(st, 202, raw)
	for _, g := range []string{"data", "MC_rg_c1_westus2"} {
		put(admin, sub+"/resourcegroups/"+g+"?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	}
	for _, path := range []string{disk + "?api-version=2022-07-02", foreignIP + "?api-version=2022-07-01",
		sub + "/resourceGroups/MC_rg_c1_westus2/providers/Microsoft.Network/loadBalancers/kubernetes?api-version=2022-07-01"} {
		if st, _, raw := s.arm(t, admin, "GET", path, ""); st != 404 || !strings.Contains(raw, "ResourceNotFound") {
			t.Fatalf("%s outlived its group: %d %s", path, st, raw)
		}
	}
	if events, _ := s.Ops.clusters.aks.Events(ctx, id); len(events) != 0 {
		t.Fatalf("events outlived the cluster: %+v", events)
	}
}

// TestFreshClusterHasItsLoadBalancer: right after a managed-identity
// cluster is made, with only Microsoft.ContainerService registered by
// the user, its node resource group holds AKS's load balancer and
// outbound public IP, and the cluster's identity passes the cloud
// provider's checks (AKS registered what its nodes need); the check's
// frontend joins the load balancer without dropping AKS's outbound rule.
func TestFreshClusterHasItsLoadBalancer(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	for _, step := range []struct{ method, path, body string }{
		{"PUT", sub + "/resourcegroups/fresh?api-version=2021-04-01", `{"location":"westus2"}`},
		{"POST", sub + "/providers/Microsoft.ContainerService/register?api-version=2021-04-01", ""},
		{"PUT", sub + "/resourceGroups/fresh/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2024-02-01",
			`{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"c1"}}`},
	} {
		if st, _, raw := s.arm(t, admin, step.method, step.path, step.body); st >= 300 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, st, raw)
		}
	}
	mc := sub + "/resourceGroups/MC_fresh_c1_westus2"
	st, m, raw := s.arm(t, admin, "GET", mc+"/resources?api-version=2021-04-01", "")
	types := map[string]string{}
	for _, r := range m["value"].([]any) {
		r := r.(map[string]any)
		types[r["type"].(string)] = r["name"].(string)
	}
	if st != 200 || types["Microsoft.Network/loadBalancers"] != "kubernetes" || types["Microsoft.Network/publicIPAddresses"] == "" {
		t.Fatalf("node resource group right after create: %d %s", st, raw)
	}
	checks, err := s.Ops.CheckCluster(ctx, cloudprovider.Request{ClusterID: sub + "/resourceGroups/fresh/providers/Microsoft.ContainerService/managedClusters/c1"})
	if err != nil || checkLines(checks) != "PASS public-ip\nPASS load-balancer" {
		t.Fatalf("checks right after create: %v\n%s", err, checkLines(checks))
	}
	_, lb, raw := s.arm(t, admin, "GET", mc+"/providers/Microsoft.Network/loadBalancers/kubernetes?api-version=2022-07-01", "")
	props := lb["properties"].(map[string]any)
	if len(props["frontendIPConfigurations"].([]any)) != 2 || len(props["outboundRules"].([]any)) != 1 {
		t.Fatalf("load balancer after the check: %s", raw)
	}
	_, c, _ := s.arm(t, admin, "GET", sub+"/resourceGroups/fresh/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2024-02-01", "")
	np := c["properties"].(map[string]any)["networkProfile"].(map[string]any)
	if np["outboundType"] != "loadBalancer" || len(np["loadBalancerProfile"].(map[string]any)["effectiveOutboundIPs"].([]any)) != 1 {
		t.Fatalf("network profile: %v", np)
	}
}
