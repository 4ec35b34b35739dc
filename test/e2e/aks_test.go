package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/aks"
)

// TestAzAKSClusters runs the AKS docs' cluster commands with the real az
// (proxy mode): a cluster with a service principal (checked by signing in
// as it), one with managed identities, credentials, rotation, deletion.
func TestAzAKSClusters(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	home := az.home()
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	az.ok("group", "create", "--name", "myResourceGroup", "--location", "westus2", "-o", "none")
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")

	var sp struct{ AppID, Password string }
	az.json(&sp, "ad", "sp", "create-for-rbac", "--name", "myAKSClusterServicePrincipal")
	az.fails("The credentials in ServicePrincipalProfile were invalid", "aks", "create", "-g", "myResourceGroup", "-n", "wrongSecret",
		"--service-principal", sp.AppID, "--client-secret", "not-the-secret", "--generate-ssh-keys")
	az.fails("at most 190 bytes", "aks", "create", "-g", "myResourceGroup", "-n", "longSecret",
		"--service-principal", sp.AppID, "--client-secret", strings.Repeat("x", 191), "--generate-ssh-keys")
	var cluster struct {
		ProvisioningState, NodeResourceGroup, Fqdn string
		ServicePrincipalProfile                    struct{ ClientID string }
	}
	az.json(&cluster, "aks", "create", "-g", "myResourceGroup", "-n", "myAKSCluster", "--service-principal", sp.AppID,
		"--client-secret", sp.Password, "--generate-ssh-keys")
	if cluster.ProvisioningState != "Succeeded" || cluster.ServicePrincipalProfile.ClientID != sp.AppID ||
		cluster.NodeResourceGroup != "MC_myResourceGroup_myAKSCluster_westus2" || !strings.HasSuffix(cluster.Fqdn, ".hcp.westus2.azmk8s.io") {
		t.Fatalf("aks create with a service principal: %+v", cluster)
	}
	if id := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myAKSCluster", "--query", "servicePrincipalProfile.clientId", "-o", "tsv"); id != sp.AppID {
		t.Fatalf("aks show clientId: %q", id)
	}
	// The rotation doc: list the expiry, reset, hand the new secret to the cluster.
	if ends := az.ok("ad", "app", "credential", "list", "--id", sp.AppID, "--query", "[].endDateTime", "-o", "tsv"); ends == "" {
		t.Fatal("no credential listed")
	}
	newSecret := az.ok("ad", "app", "credential", "reset", "--id", sp.AppID, "--query", "password", "-o", "tsv")
	az.ok("aks", "update-credentials", "-g", "myResourceGroup", "-n", "myAKSCluster", "--reset-service-principal",
		"--service-principal", sp.AppID, "--client-secret", newSecret)
	if img := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myAKSCluster", "--query", "agentPoolProfiles[0].nodeImageVersion", "-o", "tsv"); !strings.HasSuffix(img, ".2.0") {
		t.Fatalf("node image after the credential reset: %q", img)
	}

	var mi struct {
		Identity                struct{ PrincipalID, TenantID, Type string }
		ServicePrincipalProfile struct{ ClientID string }
		IdentityProfile         struct {
			Kubeletidentity struct{ ClientID, ObjectID, ResourceID string }
		}
	}
	az.json(&mi, "aks", "create", "-g", "myResourceGroup", "-n", "myManagedCluster", "--enable-managed-identity", "--generate-ssh-keys")
	if mi.ServicePrincipalProfile.ClientID != "msi" || mi.Identity.PrincipalID == "" || mi.Identity.Type != "SystemAssigned" ||
		!strings.Contains(mi.IdentityProfile.Kubeletidentity.ResourceID, "/resourcegroups/MC_myResourceGroup_myManagedCluster_westus2/") {
		t.Fatalf("aks create with managed identity: %+v", mi)
	}
	if id := az.ok("identity", "list", "-g", "MC_myResourceGroup_myManagedCluster_westus2", "--query", "[0].clientId", "-o", "tsv"); id != mi.IdentityProfile.Kubeletidentity.ClientID {
		t.Fatalf("kubelet identity resource: %q", id)
	}
	az.fails("not allowed on MSI cluster", "aks", "update-credentials", "-g", "myResourceGroup", "-n", "myManagedCluster",
		"--reset-service-principal", "--service-principal", sp.AppID, "--client-secret", newSecret)

	// One Kubernetes version is offered: the API server's that aksid runs.
	if v := az.ok("aks", "get-versions", "-l", "westus2", "--query", "orchestrators[].orchestratorVersion", "-o", "tsv"); v != aks.KubernetesVersion {
		t.Fatalf("az aks get-versions: %q", v)
	}
	if v := az.ok("aks", "get-upgrades", "-g", "myResourceGroup", "-n", "myManagedCluster", "--query", "controlPlaneProfile.kubernetesVersion", "-o", "tsv"); v != aks.KubernetesVersion {
		t.Fatalf("az aks get-upgrades: %q", v)
	}
	az.fails("K8sVersionNotSupported", "aks", "upgrade", "-g", "myResourceGroup", "-n", "myManagedCluster", "--kubernetes-version", "1.99.0", "--yes")
	// The tier: az 2.45's --uptime-sla asks for Paid, Standard's former name.
	az.ok("aks", "update", "-g", "myResourceGroup", "-n", "myManagedCluster", "--uptime-sla", "-o", "none")
	if tier := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myManagedCluster", "--query", "sku.tier", "-o", "tsv"); tier != "Standard" {
		t.Fatalf("tier after --uptime-sla: %q", tier)
	}

	// The managed identity doc: an existing cluster's control plane moves
	// to a user-assigned identity.
	az.ok("identity", "create", "-g", "myResourceGroup", "-n", "myIdentity", "-o", "none")
	uaiID := az.ok("identity", "show", "-g", "myResourceGroup", "-n", "myIdentity", "--query", "id", "-o", "tsv")
	az.ok("aks", "update", "-g", "myResourceGroup", "-n", "myManagedCluster", "--enable-managed-identity", "--assign-identity", uaiID, "--yes", "-o", "none")
	if got := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myManagedCluster", "--query", "[identity.type, keys(identity.userAssignedIdentities)[0]]", "-o", "tsv"); !strings.EqualFold(got, "UserAssigned\n"+uaiID) {
		t.Fatalf("identity after --assign-identity: %q", got)
	}

	kubeconfig := filepath.Join(home, "kubeconfig")
	az.ok("aks", "get-credentials", "-g", "myResourceGroup", "-n", "myManagedCluster", "--file", kubeconfig)
	az.ok("aks", "get-credentials", "-g", "myResourceGroup", "-n", "myManagedCluster", "--admin", "--file", kubeconfig)
	out, err := exec.Command("kubectl", "config", "view", "--kubeconfig", kubeconfig, "-o", "jsonpath={.users[*].name}").Output()
	if err != nil || !strings.Contains(string(out), "clusterUser_myResourceGroup_myManagedCluster") || !strings.Contains(string(out), "clusterAdmin_myResourceGroup_myManagedCluster") {
		t.Fatalf("kubectl config view: %s %v", out, err)
	}

	az.ok("aks", "delete", "-g", "myResourceGroup", "-n", "myManagedCluster", "--yes")
	if exists := az.ok("group", "exists", "-n", "MC_myResourceGroup_myManagedCluster_westus2"); exists != "false" {
		t.Fatal("the node resource group outlived its cluster")
	}
	// The docs' clean-up: the principal is not the cluster's to delete.
	clientID := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myAKSCluster", "--query", "servicePrincipalProfile.clientId", "-o", "tsv")
	// A service-principal cluster moves to managed identities.
	az.ok("aks", "update", "-g", "myResourceGroup", "-n", "myAKSCluster", "--enable-managed-identity", "--yes", "-o", "none")
	if got := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myAKSCluster", "--query", "[servicePrincipalProfile.clientId, identity.type]", "-o", "tsv"); got != "msi\nSystemAssigned" {
		t.Fatalf("after --enable-managed-identity: %q", got)
	}
	az.ok("aks", "delete", "-g", "myResourceGroup", "-n", "myAKSCluster", "--yes")
	az.ok("ad", "sp", "delete", "--id", clientID)
}

// TestAzGroupDeleteTakesItsClusters: `az group delete` deletes the
// clusters in the group with their node resource groups (kubelet
// identity, load balancer, outbound IP), and the group made again is
// empty. Right after create the cluster's identity passes the cloud
// provider's checks: AKS made its load balancer and registered what its
// nodes need.
func TestAzGroupDeleteTakesItsClusters(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	az.ok("group", "create", "-n", "d1", "-l", "westus2", "-o", "none")
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")
	az.ok("aks", "create", "-g", "d1", "-n", "c1", "--enable-managed-identity", "--generate-ssh-keys", "-o", "none")
	const mc = "MC_d1_c1_westus2"
	kubelet := az.ok("identity", "list", "-g", mc, "--query", "[0].principalId", "-o", "tsv")
	// az resource list -g sends $filter=resourceGroup eq '…' to the
	// subscription's list; the group's own list must say the same.
	types := az.ok("resource", "list", "-g", mc, "--query", "sort([].type)", "-o", "tsv")
	if types != "Microsoft.ManagedIdentity/userAssignedIdentities\nMicrosoft.Network/loadBalancers\nMicrosoft.Network/publicIPAddresses" {
		t.Fatalf("node resource group right after create:\n%s", types)
	}
	if lb := az.ok("resource", "list", "-g", mc, "--resource-type", "Microsoft.Network/loadBalancers", "--query", "[].name", "-o", "tsv"); lb != "kubernetes" {
		t.Fatalf("az resource list --resource-type: %q", lb)
	}
	inGroup := az.ok("rest", "--method", "get", "--url", "/subscriptions/"+in.env["AKSID_SUBSCRIPTION_ID"]+"/resourceGroups/"+mc+"/resources?api-version=2021-04-01",
		"--query", "sort(value[].type)", "-o", "tsv")
	if inGroup != types {
		t.Fatalf("the group's own list:\n%s", inGroup)
	}
	got, pass := clusterCheck(t, in, "d1/c1")
	wantChecks(t, "right after create", got, pass, "PASS public-ip", "PASS load-balancer")

	az.ok("group", "delete", "-n", "d1", "--yes")
	if names := az.ok("aks", "list", "--query", "[].name", "-o", "tsv"); names != "" {
		t.Fatalf("clusters outlived their group: %q", names)
	}
	if exists := az.ok("group", "exists", "-n", mc); exists != "false" {
		t.Fatal("the node resource group outlived its cluster's group")
	}
	az.fails("does not exist", "ad", "sp", "show", "--id", kubelet)
	az.ok("group", "create", "-n", "d1", "-l", "westus2", "-o", "none")
	if names := az.ok("aks", "list", "-g", "d1", "--query", "[].name", "-o", "tsv"); names != "" {
		t.Fatalf("the group made again brought back %q", names)
	}
	if exists := az.ok("group", "exists", "-n", mc); exists != "false" {
		t.Fatal("the group made again brought back the node resource group")
	}
}

func (a *azCLI) home() string {
	for _, kv := range a.env {
		if h, ok := strings.CutPrefix(kv, "HOME="); ok {
			_ = os.MkdirAll(h, 0o700)
			return h
		}
	}
	a.t.Fatal("no HOME")
	return ""
}
