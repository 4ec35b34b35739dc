package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/cloudprovider"
	"github.com/google/uuid"
)

// TestClusterIdentityChanges is `az aks update --enable-managed-identity
// [--assign-identity]` and a kubelet identity of the user's choosing, sent
// as az sends them (the cluster read back, its identity changed): the
// control plane acts as the new identity, which gets the node resource
// group; a system-assigned identity given up is deleted; a custom kubelet
// identity needs a user-assigned control plane; a service-principal
// cluster moves to managed identities.
func TestClusterIdentityChanges(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		return s.armWant(t, admin, method, path, body, want)
	}
	call("PUT", sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.Network", "Microsoft.ManagedIdentity"} {
		call("POST", sub+"/providers/"+ns+"/register?api-version=2021-04-01", "", 200)
	}
	uai := func(name string) (id, clientID, principalID string) {
		m := call("PUT", sub+"/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"+name+"?api-version=2023-01-31", `{"location":"westus2"}`, 201)
		p := m["properties"].(map[string]any)
		return m["id"].(string), p["clientId"].(string), p["principalId"].(string)
	}
	cpID, cpClient, cpPrincipal := uai("cp-identity")
	kubeletID, _, _ := uai("kubelet")

	id := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	url := id + "?api-version=2024-02-01"
	c := call("PUT", url, `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"c1"}}`, 201)
	system := c["identity"].(map[string]any)["principalId"].(string)
	// update sends the cluster as read, with the changes made.
	update := func(change func(m map[string]any), want int) map[string]any {
		t.Helper()
		m := call("GET", url, "", 200)
		change(m)
		b, _ := json.Marshal(m)
		return call("PUT", url, string(b), want)
	}
	actsAs := func(clientID string) {
		t.Helper()
		cp, err := s.Ops.clusters.aks.ControlPlane(ctx, id)
		if err != nil || cp.ClientID != clientID {
			t.Fatalf("control plane acts as %q (%v), want %s", cp.ClientID, err, clientID)
		}
		// And may: it holds the node resource group.
		checks, err := s.Ops.CheckCluster(ctx, cloudprovider.Request{ClusterID: id})
		if err != nil || checkLines(checks) != "PASS public-ip\nPASS load-balancer" {
			t.Fatalf("checks as %s: %v\n%s", clientID, err, checkLines(checks))
		}
	}

	// System- to user-assigned: the system-assigned identity is gone.
	c = update(func(m map[string]any) {
		m["identity"] = map[string]any{"type": "UserAssigned", "userAssignedIdentities": map[string]any{cpID: map[string]any{}}}
	}, 200)
	got := c["identity"].(map[string]any)
	if got["type"] != "UserAssigned" || got["userAssignedIdentities"].(map[string]any)[cpID].(map[string]any)["principalId"] != cpPrincipal {
		t.Fatalf("identity after --assign-identity: %v", got)
	}
	actsAs(cpClient)
	if _, err := s.Ops.dir.ServicePrincipalByObjectID(ctx, s.Creds.TenantID, system); err == nil {
		t.Fatal("the system-assigned identity given up still exists")
	}

	// A kubelet identity of the user's choosing, beside a user-assigned
	// control plane that may assign it (Managed Identity Operator on it):
	// refused with the command to run until it may, then taken.
	useKubelet := func(m map[string]any) {
		m["properties"].(map[string]any)["identityProfile"] = map[string]any{"kubeletidentity": map[string]any{"resourceId": kubeletID}}
	}
	missing := update(useKubelet, 400)["error"].(map[string]any)
	if missing["code"] != "CustomKubeletIdentityMissingPermissionError" || !strings.Contains(missing["message"].(string), "--assignee "+cpPrincipal+" --role 'Managed Identity Operator' --scope "+kubeletID) {
		t.Fatalf("custom kubelet without the role: %v", missing)
	}
	grantOperator(t, s, admin, kubeletID, cpPrincipal)
	c = update(useKubelet, 200)
	if k := c["properties"].(map[string]any)["identityProfile"].(map[string]any)["kubeletidentity"].(map[string]any); !strings.EqualFold(k["resourceId"].(string), kubeletID) || k["clientId"] == "" {
		t.Fatalf("kubelet identity %v", k)
	}
	if nodes, err := s.Ops.clusters.aks.NodeIdentities(ctx, id); err != nil || len(nodes.IdentityIDs) != 1 || !strings.EqualFold(nodes.IdentityIDs[0], kubeletID) {
		t.Fatalf("nodes' identities %+v %v", nodes, err)
	}

	// Back to system-assigned: a new identity; then no custom kubelet.
	c = update(func(m map[string]any) { m["identity"] = map[string]any{"type": "SystemAssigned"} }, 200)
	again := c["identity"].(map[string]any)["principalId"]
	if c["identity"].(map[string]any)["type"] != "SystemAssigned" || again == "" || again == system {
		t.Fatalf("identity back to system-assigned: %v", c["identity"])
	}
	cp, _ := s.Ops.clusters.aks.ControlPlane(ctx, id)
	actsAs(cp.ClientID)
	k2, _, _ := uai("kubelet2")
	st, m, raw := s.arm(t, admin, "GET", url, "")
	if st != 200 {
		t.Fatal(raw)
	}
	m["properties"].(map[string]any)["identityProfile"] = map[string]any{"kubeletidentity": map[string]any{"resourceId": k2}}
	b, _ := json.Marshal(m)
	if st, m, raw := s.arm(t, admin, "PUT", url, string(b)); st != 400 || m["error"].(map[string]any)["code"] != "CustomKubeletIdentityOnlySupportedOnUserAssignedMSICluster" {
		t.Fatalf("custom kubelet beside a system-assigned control plane: %d %s", st, raw)
	}
	// The same at creation.
	if st, m, raw := s.arm(t, admin, "PUT", sub+"/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c9?api-version=2024-02-01",
		`{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"c9","identityProfile":{"kubeletidentity":{"resourceId":"`+k2+`"}}}}`); st != 400 || m["error"].(map[string]any)["code"] != "CustomKubeletIdentityOnlySupportedOnUserAssignedMSICluster" {
		t.Fatalf("custom kubelet at creation: %d %s", st, raw)
	}

	// At creation too, before anything is made.
	k3, _, _ := uai("kubelet3")
	c8 := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c8?api-version=2024-02-01"
	body := `{"location":"westus2","identity":{"type":"UserAssigned","userAssignedIdentities":{"` + cpID + `":{}}},"properties":{"dnsPrefix":"c8","identityProfile":{"kubeletidentity":{"resourceId":"` + k3 + `"}}}}`
	if st, m, raw := s.arm(t, admin, "PUT", c8, body); st != 400 || m["error"].(map[string]any)["code"] != "CustomKubeletIdentityMissingPermissionError" {
		t.Fatalf("custom kubelet at creation without the role: %d %s", st, raw)
	}
	call("GET", c8, "", 404)
	call("GET", sub+"/resourcegroups/MC_rg_c8_westus2?api-version=2021-04-01", "", 404)
	grantOperator(t, s, admin, sub+"/resourceGroups/rg", cpPrincipal) // inherited from the group
	if k := call("PUT", c8, body, 201)["properties"].(map[string]any)["identityProfile"].(map[string]any)["kubeletidentity"].(map[string]any); !strings.EqualFold(k["resourceId"].(string), k3) {
		t.Fatalf("kubelet identity at creation %v", k)
	}

	// A service-principal cluster moves to managed identities.
	sp, err := s.Ops.CreateSP(ctx, "cluster-sp", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	spURL := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c2?api-version=2024-02-01"
	call("PUT", spURL, `{"location":"westus2","properties":{"dnsPrefix":"c2","servicePrincipalProfile":{"clientId":"`+sp.AppID+`","secret":"`+*sp.Password+`"}}}`, 201)
	mc := call("GET", spURL, "", 200)
	mc["identity"] = map[string]any{"type": "SystemAssigned"}
	b, _ = json.Marshal(mc)
	mc = call("PUT", spURL, string(b), 200)
	props := mc["properties"].(map[string]any)
	if mc["identity"].(map[string]any)["type"] != "SystemAssigned" || props["servicePrincipalProfile"].(map[string]any)["clientId"] != "msi" ||
		props["identityProfile"].(map[string]any)["kubeletidentity"] == nil {
		t.Fatalf("after moving to managed identity: %v", mc)
	}
	cp, err = s.Ops.clusters.aks.ControlPlane(ctx, mc["id"].(string))
	if err != nil || !cp.Managed || cp.Secret != "" {
		t.Fatalf("control plane after the move: %+v %v", cp, err)
	}
}

// TestRefusedIdentityChangeLeavesNothing: an update that moves the control
// plane to a user-assigned identity but is refused for another reason (a
// Kubernetes version not offered) neither deletes the system-assigned
// identity nor changes the cluster.
func TestRefusedIdentityChangeLeavesNothing(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	s.armWant(t, admin, "PUT", sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.ManagedIdentity"} {
		s.armWant(t, admin, "POST", sub+"/providers/"+ns+"/register?api-version=2021-04-01", "", 200)
	}
	cp := s.armWant(t, admin, "PUT", sub+"/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cp-identity?api-version=2023-01-31", `{"location":"westus2"}`, 201)
	url := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2024-02-01"
	c := s.armWant(t, admin, "PUT", url, `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"c1"}}`, 201)
	system := c["identity"].(map[string]any)["principalId"].(string)
	c["identity"] = map[string]any{"type": "UserAssigned", "userAssignedIdentities": map[string]any{cp["id"].(string): map[string]any{}}}
	c["properties"].(map[string]any)["kubernetesVersion"] = "1.99.0"
	b, _ := json.Marshal(c)
	if m := s.armWant(t, admin, "PUT", url, string(b), 400); m["error"].(map[string]any)["code"] != "K8sVersionNotSupported" {
		t.Fatalf("refusal: %v", m)
	}
	if _, err := s.Ops.dir.ServicePrincipalByObjectID(ctx, s.Creds.TenantID, system); err != nil {
		t.Fatalf("the system-assigned identity went with a refused update: %v", err)
	}
	if got := s.armWant(t, admin, "GET", url, "", 200)["identity"].(map[string]any); got["type"] != "SystemAssigned" || got["principalId"] != system {
		t.Fatalf("identity after a refused update: %v", got)
	}
}

// grantOperator makes principal a Managed Identity Operator at scope.
func grantOperator(t *testing.T, s *testServer, token, scope, principal string) {
	t.Helper()
	sub := strings.SplitN(strings.TrimPrefix(scope, "/subscriptions/"), "/", 2)[0]
	s.armWant(t, token, "PUT", scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
		`{"properties":{"roleDefinitionId":"/subscriptions/`+sub+`/providers/Microsoft.Authorization/roleDefinitions/f1a07417-d97a-45cb-824c-7a7467783830","principalId":"`+principal+`","principalType":"ServicePrincipal"}}`, 201)
}
