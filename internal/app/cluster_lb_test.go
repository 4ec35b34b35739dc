package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/kubeplane"
	"github.com/google/uuid"
)

// TestLoadBalancerServiceAsClusterIdentity drives EnsureService through
// the real router: with a custom subnet the cluster's principal is
// refused until it holds Network Contributor on the subnet's group; the
// IP returned is the one the network face gave the Service's public IP;
// an expired secret fails with Entra's AADSTS7000222 until
// update-credentials; DeleteService removes the IP and frontend.
func TestLoadBalancerServiceAsClusterIdentity(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	put := func(path, body string) map[string]any {
		t.Helper()
		st, m, raw := s.arm(t, admin, "PUT", path, body)
		if st >= 300 {
			t.Fatalf("PUT %s: %d %s", path, st, raw)
		}
		return m
	}
	assign := func(scope, principal string) {
		t.Helper()
		put(scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
			`{"properties":{"roleDefinitionId":"`+sub+`/providers/Microsoft.Authorization/roleDefinitions/`+networkContributor+`","principalId":"`+principal+`","principalType":"ServicePrincipal"}}`)
	}
	for _, g := range []string{"rg", "net-rg"} {
		put(sub+"/resourcegroups/"+g+"?api-version=2021-04-01", `{"location":"westus2"}`)
	}
	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.Network"} {
		if st, _, raw := s.arm(t, admin, "POST", sub+"/providers/"+ns+"/register?api-version=2021-04-01", ""); st != 200 {
			t.Fatalf("register %s: %d %s", ns, st, raw)
		}
	}
	vnet := put(sub+"/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/vnet1?api-version=2022-01-01",
		`{"location":"westus2","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"nodes","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`)
	subnet := vnet["properties"].(map[string]any)["subnets"].([]any)[0].(map[string]any)["id"].(string)
	sp, err := s.Ops.CreateSP(ctx, "cluster-sp", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	spObj, err := s.Ops.dir.ServicePrincipal(ctx, s.Creds.TenantID, sp.AppID)
	if err != nil {
		t.Fatal(err)
	}
	clusterURL := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	put(clusterURL+"?api-version=2023-08-01", `{"location":"westus2","properties":{"dnsPrefix":"c1","servicePrincipalProfile":{"clientId":"`+sp.AppID+`","secret":"`+*sp.Password+`"},
		"agentPoolProfiles":[{"name":"nodepool1","count":1,"vnetSubnetID":"`+subnet+`"}]}}`)
	id, err := ClusterID("rg/c1")
	if err != nil {
		t.Fatal(err)
	}
	lbs := s.Ops.clusters.check
	svc := kubeplane.ServiceRef{Namespace: "default", Name: "web", UID: "0b7e1f8a-2c3d-4e5f-9a8b-7c6d5e4f3a2b",
		Ports: []kubeplane.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, NodePort: 30080}}}

	_, err = lbs.EnsureService(ctx, id, svc)
	if err == nil || !strings.Contains(err.Error(), `HTTPStatusCode: 403, RawError: {"error":{"code":"AuthorizationFailed","message":"The client '`+spObj.ObjectID) ||
		!strings.Contains(err.Error(), "Microsoft.Network/virtualNetworks/subnets/read") {
		t.Fatalf("without a role on the subnet: %v", err)
	}
	assign(sub+"/resourceGroups/net-rg", spObj.ObjectID)
	ip, err := lbs.EnsureService(ctx, id, svc)
	if err != nil {
		t.Fatalf("with Network Contributor on the subnet's group: %v", err)
	}
	mc := sub + "/resourceGroups/MC_rg_c1_westus2/providers/Microsoft.Network/"
	pip := mc + "publicIPAddresses/kubernetes-a0b7e1f8a2c3d4e5f9a8b7c6d5e4f3a2?api-version=2022-07-01"
	st, m, raw := s.arm(t, admin, "GET", pip, "")
	if st != 200 || m["properties"].(map[string]any)["ipAddress"] != ip || m["tags"].(map[string]any)["k8s-azure-service"] != "default/web" {
		t.Fatalf("public IP %q: %d %s", ip, st, raw)
	}
	_, lb, raw := s.arm(t, admin, "GET", mc+"loadBalancers/kubernetes?api-version=2022-07-01", "")
	props := lb["properties"].(map[string]any)
	if len(props["frontendIPConfigurations"].([]any)) != 2 || len(props["loadBalancingRules"].([]any)) != 1 || len(props["outboundRules"].([]any)) != 1 ||
		!strings.Contains(raw, "a0b7e1f8a2c3d4e5f9a8b7c6d5e4f3a2-TCP-80") {
		t.Fatalf("load balancer: %s", raw)
	}

	// The secret expires: Entra's refusal, in the Service's error.
	if _, err := s.Ops.AdvanceClock(ctx, 400*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err = lbs.EnsureService(ctx, id, svc); err == nil || !strings.Contains(err.Error(), "AADSTS7000222: The provided client secret keys for app '"+sp.AppID+"' are expired.") {
		t.Fatalf("expired secret: %v", err)
	}
	admin = s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	sp2, err := s.Ops.CreateSP(ctx, "cluster-sp-2", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	sp2Obj, err := s.Ops.dir.ServicePrincipal(ctx, s.Creds.TenantID, sp2.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if st, _, raw := s.arm(t, admin, "POST", clusterURL+"/resetServicePrincipalProfile?api-version=2023-08-01",
		`{"clientId":"`+sp2.AppID+`","secret":"`+*sp2.Password+`"}`); st >= 300 {
		t.Fatalf("update-credentials: %d %s", st, raw)
	}
	assign(sub+"/resourceGroups/net-rg", sp2Obj.ObjectID)
	if again, err := lbs.EnsureService(ctx, id, svc); err != nil || again != ip {
		t.Fatalf("after update-credentials: %q %v", again, err)
	}

	if err := lbs.DeleteService(ctx, id, svc); err != nil {
		t.Fatal(err)
	}
	if st, _, raw := s.arm(t, admin, "GET", pip, ""); st != 404 {
		t.Fatalf("public IP after DeleteService: %d %s", st, raw)
	}
	_, lb, raw = s.arm(t, admin, "GET", mc+"loadBalancers/kubernetes?api-version=2022-07-01", "")
	if strings.Contains(raw, "a0b7e1f8") || len(lb["properties"].(map[string]any)["outboundRules"].([]any)) != 1 {
		t.Fatalf("load balancer after DeleteService: %s", raw)
	}
}
