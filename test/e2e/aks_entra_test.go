package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAzAKSEntraCluster: the 2019 preview sequence, then an
// Entra-integrated cluster whose user kubeconfig is kubelogin's exec form
// exactly as AKS writes it (proxy mode), which kubelogin converts and
// kubectl reads; its admin credential is refused without local accounts;
// az aks command invoke is refused with why.
func TestAzAKSEntraCluster(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	tid := in.env["AZURE_TENANT_ID"]
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	az.ok("group", "create", "--name", "MyResourceGroup", "--location", "westus2", "-o", "none")

	// The MSI preview path of the 2019 doc.
	az.ok("feature", "register", "--name", "MSIPreview", "--namespace", "Microsoft.ContainerService", "-o", "none")
	aksidRun(t, "clock", "advance", "10m", "--data-dir", in.dataDir)
	if out := az.ok("feature", "list", "-o", "table", "--query", "[?contains(name, 'Microsoft.ContainerService/MSIPreview')].{Name:name,State:properties.state}"); !strings.Contains(out, "Registered") {
		t.Fatalf("feature list: %s", out)
	}
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")
	if id := az.ok("aks", "create", "-g", "MyResourceGroup", "-n", "MyManagedCluster", "--enable-managed-identity", "--generate-ssh-keys",
		"--query", "servicePrincipalProfile.clientId", "-o", "tsv"); id != "msi" {
		t.Fatalf("preview path create: %q", id)
	}

	az.fails("disableLocalAccounts can only be set on Azure AD integration enabled cluster", "aks", "create", "-g", "MyResourceGroup", "-n", "no-entra",
		"--disable-local-accounts", "--generate-ssh-keys", "-o", "none")
	group := az.ok("ad", "group", "create", "--display-name", "aks-admins", "--mail-nickname", "aks-admins", "--query", "id", "-o", "tsv")
	az.ok("aks", "create", "-g", "MyResourceGroup", "-n", "entra", "--enable-aad", "--aad-admin-group-object-ids", group,
		"--enable-azure-rbac", "--disable-local-accounts", "--generate-ssh-keys", "-o", "none")
	// Managed Entra names the cluster's tenant, as AKS shows it.
	if got := az.ok("aks", "show", "-g", "MyResourceGroup", "-n", "entra", "--query", "aadProfile.tenantId", "-o", "tsv"); got != tid {
		t.Fatalf("aadProfile.tenantId %q, want %s", got, tid)
	}
	kc := filepath.Join(az.home(), "entra.kubeconfig")
	az.ok("aks", "get-credentials", "-g", "MyResourceGroup", "-n", "entra", "--file", kc)
	b, err := os.ReadFile(kc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"command: kubelogin", "- --environment\n      - AzurePublicCloud", "- --server-id\n      - " + aksServerApp,
		"- --client-id\n      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a", "- --tenant-id\n      - " + tid, "- --login\n      - devicecode", "clusterUser_MyResourceGroup_entra"} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("kubeconfig lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "authority-host") {
		t.Fatal("a kubeconfig asked for through the proxy must be exactly AKS's")
	}
	az.fails("disable local accounts", "aks", "get-credentials", "-g", "MyResourceGroup", "-n", "entra", "--admin", "--file", kc)
	// az takes a token for the AKS server application first (the
	// command's cluster token); the refusal says why no command runs.
	az.fails("KubernetesOperationError) Failed to run command: container command-", "aks", "command", "invoke", "-g", "MyResourceGroup", "-n", "entra",
		"--command", "kubectl get nodes")

	conv := exec.Command(kubeloginPath(t), "convert-kubeconfig", "-l", "azurecli", "--kubeconfig", kc)
	conv.Env = append(os.Environ(), "HOME="+az.home())
	if out, err := conv.CombinedOutput(); err != nil {
		t.Fatalf("kubelogin convert-kubeconfig: %v %s", err, out)
	}
	out, err := exec.Command("kubectl", "config", "view", "--kubeconfig", kc, "-o", "jsonpath={.users[0].user.exec.args}").Output()
	if err != nil || !strings.Contains(string(out), "azurecli") || !strings.Contains(string(out), aksServerApp) {
		t.Fatalf("converted kubeconfig: %s %v", out, err)
	}

	// Directly (custom-cloud mode) the kubeconfig also tells kubelogin where aksid is.
	direct := newAz(t, in)
	direct.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	dkc := filepath.Join(direct.home(), "direct.kubeconfig")
	direct.ok("aks", "get-credentials", "-g", "MyResourceGroup", "-n", "entra", "--file", dkc)
	if b, _ := os.ReadFile(dkc); !strings.Contains(string(b), "- --authority-host\n      - "+in.url+"/") || !strings.Contains(string(b), "--disable-instance-discovery") {
		t.Fatalf("direct kubeconfig:\n%s", b)
	}
	convertAndSignIn(t, in, az, kc, dkc)
}

// TestAKSRefusals: Azure's codes for bad cluster requests, nothing half-made.
func TestAKSRefusals(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	az.ok("group", "create", "--name", "rg", "--location", "westus2", "-o", "none")
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")
	az.fails("ResourceGroupNotFound", "aks", "create", "-g", "nope", "-n", "c1", "--generate-ssh-keys")
	// az checks names itself; the server refuses them too.
	url := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"] + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/"
	az.fails("InvalidResourceName", "rest", "--method", "put", "--url", url+"bad_name_?api-version=2022-11-01", "--body", `{"location":"westus2"}`)
	az.fails("LocationRequired", "rest", "--method", "put", "--url", url+"noloc?api-version=2022-11-01", "--body", `{"properties":{}}`)
	az.fails("cannot both be specified", "rest", "--method", "put", "--url", url+"both?api-version=2022-11-01", "--body",
		`{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"servicePrincipalProfile":{"clientId":"0b0b0b0b-2222-3333-4444-555555555555","secret":"x"}}}`)
	az.fails("InvalidApiVersionParameter", "rest", "--method", "get", "--url", url+"x?api-version=2001-01-01")
	var sp struct{ AppID, Password string }
	az.json(&sp, "ad", "sp", "create-for-rbac", "--name", "refusals-sp")
	unknown := "0b0b0b0b-2222-3333-4444-555555555555"
	az.fails("ServicePrincipalProfile were invalid", "aks", "create", "-g", "rg", "-n", "c2", "--service-principal", unknown, "--client-secret", "x", "--generate-ssh-keys")
	if exists := az.ok("group", "exists", "-n", "MC_rg_c2_westus2"); exists != "false" {
		t.Fatal("a refused create left its node resource group")
	}
	// Deleting a cluster that is not there is not an error, as in Azure.
	az.ok("aks", "delete", "-g", "rg", "-n", "never", "--yes")
}
