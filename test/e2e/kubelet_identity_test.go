package e2e

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestAzAKSKubeletIdentity runs the managed identity doc's "pre-created
// kubelet identity" with the real az: the control plane's identity needs
// Managed Identity Operator on the kubelet identity. Without it AKS
// refuses the cluster (sent with az rest: az 2.45 stops first, in its own
// role-assignment client, compat/az.md §1); with it (granted with az rest,
// the doc's az role assignment create), az aks create --assign-identity
// --assign-kubelet-identity makes a cluster whose nodes use it, and an
// update to another kubelet identity is refused and then taken the same way.
func TestAzAKSKubeletIdentity(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	az.ok("group", "create", "--name", "myResourceGroup", "--location", "westus2", "-o", "none")
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")
	identity := func(name string) (id, principal string) {
		az.ok("identity", "create", "-g", "myResourceGroup", "-n", name, "-o", "none")
		out := az.ok("identity", "show", "-g", "myResourceGroup", "-n", name, "--query", "[id, principalId]", "-o", "tsv")
		id, principal, _ = strings.Cut(out, "\n")
		return id, principal
	}
	cp, cpPrincipal := identity("myIdentity")
	kubelet, _ := identity("myKubeletIdentity")
	grant := func(scope string) {
		az.ok("rest", "--method", "put", "--url", scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
			"--body", `{"properties":{"roleDefinitionId":"/subscriptions/`+sub+`/providers/Microsoft.Authorization/roleDefinitions/f1a07417-d97a-45cb-824c-7a7467783830","principalId":"`+cpPrincipal+`","principalType":"ServicePrincipal"}}`, "-o", "none")
	}

	url := "/subscriptions/" + sub + "/resourceGroups/myResourceGroup/providers/Microsoft.ContainerService/managedClusters/myManagedCluster?api-version=2022-11-01"
	body := `{"location":"westus2","identity":{"type":"UserAssigned","userAssignedIdentities":{"` + cp + `":{}}},` +
		`"properties":{"dnsPrefix":"mymanaged","identityProfile":{"kubeletidentity":{"resourceId":"` + kubelet + `"}}}}`
	az.fails("CustomKubeletIdentityMissingPermissionError", "rest", "--method", "put", "--url", url, "--body", body)
	if exists := az.ok("group", "exists", "-n", "MC_myResourceGroup_myManagedCluster_westus2"); exists != "false" {
		t.Fatal("a refused cluster left its node resource group")
	}

	grant(kubelet)
	az.ok("aks", "create", "-g", "myResourceGroup", "-n", "myManagedCluster", "--enable-managed-identity",
		"--assign-identity", cp, "--assign-kubelet-identity", kubelet, "--generate-ssh-keys", "-o", "none")
	got := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myManagedCluster", "--query", "[identity.type, identityProfile.kubeletidentity.resourceId]", "-o", "tsv")
	if !strings.EqualFold(got, "UserAssigned\n"+kubelet) {
		t.Fatalf("cluster identities: %q", got)
	}
	if n := az.ok("identity", "list", "-g", "MC_myResourceGroup_myManagedCluster_westus2", "--query", "length(@)", "-o", "tsv"); n != "0" {
		t.Fatalf("AKS made a kubelet identity beside the user's: %s", n)
	}

	// Another kubelet identity: refused until the control plane may assign it.
	kubelet2, _ := identity("myKubeletIdentity2")
	cluster := az.ok("rest", "--method", "get", "--url", url)
	change := strings.Replace(cluster, kubelet, kubelet2, 1)
	if change == cluster {
		t.Fatalf("the cluster does not name its kubelet identity %s:\n%s", kubelet, cluster)
	}
	az.fails("--assignee "+cpPrincipal+" --role 'Managed Identity Operator'", "rest", "--method", "put", "--url", url, "--body", change)
	grant(kubelet2)
	az.ok("aks", "update", "-g", "myResourceGroup", "-n", "myManagedCluster", "--enable-managed-identity",
		"--assign-identity", cp, "--assign-kubelet-identity", kubelet2, "--yes", "-o", "none")
	if got := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myManagedCluster", "--query", "identityProfile.kubeletidentity.resourceId", "-o", "tsv"); !strings.EqualFold(got, kubelet2) {
		t.Fatalf("kubelet identity after the update: %q", got)
	}
}
