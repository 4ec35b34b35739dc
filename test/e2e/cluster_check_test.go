package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

const networkContributorRole = "4d97b98b-1d4f-4787-a291-c67834d212e7"

// clusterCheck runs `aksid cluster check` and returns its lines and
// whether every check passed (exit 0; exit 1 when one failed).
func clusterCheck(t *testing.T, in *instance, cluster string, extra ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(aksidBin, append([]string{"cluster", "check", cluster, "--data-dir", in.dataDir}, extra...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "checks failed")) {
		t.Fatalf("aksid cluster check %s: %v: %s", cluster, err, stderr.String())
	}
	return strings.TrimSpace(out.String()), err == nil
}

// wantChecks fails the test unless the check output is exactly want,
// where a line ending in "…" matches any line with that prefix.
func wantChecks(t *testing.T, step, got string, pass bool, want ...string) {
	t.Helper()
	lines := strings.Split(got, "\n")
	ok := len(lines) == len(want)
	for i := 0; ok && i < len(want); i++ {
		if p, cut := strings.CutSuffix(want[i], "…"); cut {
			ok = strings.HasPrefix(lines[i], p)
		} else {
			ok = lines[i] == want[i]
		}
	}
	if !ok || pass != !strings.Contains(got, "FAIL") {
		t.Fatalf("%s: got\n%s\nwant\n%s", step, got, strings.Join(want, "\n"))
	}
}

// TestClusterIdentityActsUnderRBAC: a cluster's identity (a service
// principal, then a system-assigned managed identity) acts as
// cloud-provider-azure does, and RBAC decides: it owns its node resource
// group, needs Network Contributor on a subnet it was given, stops
// entirely when its secret expires and resumes after the docs' reset.
func TestClusterIdentityActsUnderRBAC(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	for _, g := range []string{"net-rg", "myResourceGroup"} {
		az.ok("group", "create", "--name", g, "--location", "westus2", "-o", "none")
	}
	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.Network"} {
		az.ok("provider", "register", "--namespace", ns)
	}
	// Debian's az 2.45 crashes loading `az network` (its SDK lacks
	// ApplicationGatewaySkuName), so the network is made with az rest.
	vnet := "/subscriptions/" + sub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/myVnet"
	subnet := az.ok("rest", "--method", "put", "--url", vnet+"?api-version=2022-01-01", "--body",
		`{"location":"westus2","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"mySubnet","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`,
		"--query", "properties.subnets[0].id", "-o", "tsv")
	if subnet != vnet+"/subnets/mySubnet" {
		t.Fatalf("subnet id %q", subnet)
	}
	if prefix := az.ok("rest", "--method", "get", "--url", subnet+"?api-version=2022-01-01", "--query", "properties.addressPrefix", "-o", "tsv"); prefix != "10.0.0.0/24" {
		t.Fatalf("subnet read at its own ID: %q", prefix)
	}

	var sp struct{ AppID, Password string }
	az.json(&sp, "ad", "sp", "create-for-rbac", "--name", "myAKSClusterServicePrincipal")
	// Without --skip-subnet-role-assignment az grants Network Contributor
	// itself; Debian's az crashes doing so and retries for two minutes.
	// The grant is this test's to make.
	az.ok("aks", "create", "-g", "myResourceGroup", "-n", "myAKSCluster", "--service-principal", sp.AppID, "--client-secret", sp.Password,
		"--vnet-subnet-id", subnet, "--skip-subnet-role-assignment", "--generate-ssh-keys", "-o", "none")
	spOID := spObjectID(t, az, sp.AppID)
	out, pass := clusterCheck(t, in, "myResourceGroup/myAKSCluster")
	wantChecks(t, "service principal without a grant on the subnet", out, pass, "PASS public-ip", "PASS load-balancer",
		"FAIL subnet: AuthorizationFailed: The client '"+spOID+"' with object id '"+spOID+"' does not have authorization to perform action 'Microsoft.Network/virtualNetworks/subnets/read' over scope '"+subnet+"'…")

	assign(t, az, subnet, networkContributorRole, spOID, "ServicePrincipal")
	out, pass = clusterCheck(t, in, "myResourceGroup/myAKSCluster")
	wantChecks(t, "Network Contributor on the subnet", out, pass, "PASS public-ip", "PASS load-balancer", "PASS subnet")

	aksidRun(t, "clock", "advance", "366d", "--data-dir", in.dataDir)
	expired := ": AADSTS7000222: The provided client secret keys for app '" + sp.AppID + "' are expired.…"
	out, pass = clusterCheck(t, in, "myResourceGroup/myAKSCluster")
	wantChecks(t, "a year later", out, pass, "FAIL public-ip"+expired, "FAIL load-balancer"+expired, "FAIL subnet"+expired)
	az.fails("The credentials in ServicePrincipalProfile were invalid", "aks", "create", "-g", "myResourceGroup", "-n", "tooLate",
		"--service-principal", sp.AppID, "--client-secret", sp.Password, "--skip-subnet-role-assignment", "--generate-ssh-keys")

	newSecret := az.ok("ad", "app", "credential", "reset", "--id", sp.AppID, "--query", "password", "-o", "tsv")
	az.ok("aks", "update-credentials", "-g", "myResourceGroup", "-n", "myAKSCluster", "--reset-service-principal",
		"--service-principal", sp.AppID, "--client-secret", newSecret)
	out, pass = clusterCheck(t, in, "myResourceGroup/myAKSCluster")
	wantChecks(t, "after the credential reset", out, pass, "PASS public-ip", "PASS load-balancer", "PASS subnet")
	if got := aksidRun(t, "cluster", "azure-json", "myResourceGroup/myAKSCluster", "--data-dir", in.dataDir); !strings.Contains(got, `"aadClientSecret": "`+newSecret+`"`) {
		t.Fatalf("azure.json does not carry the reset secret:\n%s", got)
	}

	az.ok("aks", "create", "-g", "myResourceGroup", "-n", "myManagedCluster", "--enable-managed-identity",
		"--vnet-subnet-id", subnet, "--skip-subnet-role-assignment", "--generate-ssh-keys", "-o", "none")
	principal := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myManagedCluster", "--query", "identity.principalId", "-o", "tsv")
	out, pass = clusterCheck(t, in, "myResourceGroup/myManagedCluster")
	wantChecks(t, "system-assigned identity without a grant on the subnet", out, pass, "PASS public-ip", "PASS load-balancer",
		"FAIL subnet: AuthorizationFailed: The client '"+principal+"' with object id '"+principal+"'…")
	assign(t, az, subnet, networkContributorRole, principal, "ServicePrincipal")
	out, pass = clusterCheck(t, in, "myResourceGroup/myManagedCluster")
	wantChecks(t, "system-assigned identity with Network Contributor", out, pass, "PASS public-ip", "PASS load-balancer", "PASS subnet")

	// `az aks update --attach-acr` grants AcrPull to the kubelet identity
	// (Debian's az crashes at that step, so the grant is made with az rest):
	// image pulls then pass, as the kubelet identity.
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerRegistry")
	acr := "/subscriptions/" + sub + "/resourceGroups/net-rg/providers/Microsoft.ContainerRegistry/registries/aksidacr"
	az.ok("rest", "--method", "put", "--url", acr+"?api-version=2022-02-01-preview", "--body", `{"location":"westus2","sku":{"name":"Basic"}}`)
	kubelet := az.ok("aks", "show", "-g", "myResourceGroup", "-n", "myManagedCluster", "--query", "identityProfile.kubeletidentity.objectId", "-o", "tsv")
	out, pass = clusterCheck(t, in, "myResourceGroup/myManagedCluster", "--registry", acr)
	wantChecks(t, "kubelet identity without AcrPull", out, pass, "PASS public-ip", "PASS load-balancer", "PASS subnet",
		"FAIL registry/aksidacr: AuthorizationFailed: The client '"+kubelet+"' with object id '"+kubelet+"'…")
	assign(t, az, acr, "7f951dda-4ed3-4680-a7ca-43fe172d538d", kubelet, "ServicePrincipal")
	out, pass = clusterCheck(t, in, "myResourceGroup/myManagedCluster", "--registry", acr)
	wantChecks(t, "kubelet identity with AcrPull", out, pass, "PASS public-ip", "PASS load-balancer", "PASS subnet", "PASS registry/aksidacr")
}

// TestClusterDelegationWaitsForPropagation: with --rbac-propagation 60m a
// cluster's new Network Contributor grant counts only after aksid's clock
// moved an hour.
func TestClusterDelegationWaitsForPropagation(t *testing.T) {
	t.Parallel()
	in := start(t, "", "--rbac-propagation", "60m")
	az := newProxyAz(t, in)
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	for _, g := range []string{"net-rg", "rg"} {
		az.ok("group", "create", "--name", g, "--location", "westus2", "-o", "none")
	}
	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.Network"} {
		az.ok("provider", "register", "--namespace", ns)
	}
	vnet := "/subscriptions/" + sub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/v"
	subnet := az.ok("rest", "--method", "put", "--url", vnet+"?api-version=2022-01-01", "--body",
		`{"location":"westus2","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]},"subnets":[{"name":"s","properties":{"addressPrefix":"10.1.0.0/24"}}]}}`,
		"--query", "properties.subnets[0].id", "-o", "tsv")
	az.ok("aks", "create", "-g", "rg", "-n", "c", "--enable-managed-identity", "--vnet-subnet-id", subnet,
		"--skip-subnet-role-assignment", "--generate-ssh-keys", "-o", "none")
	principal := az.ok("aks", "show", "-g", "rg", "-n", "c", "--query", "identity.principalId", "-o", "tsv")
	assign(t, az, subnet, networkContributorRole, principal, "ServicePrincipal")
	out, pass := clusterCheck(t, in, "rg/c")
	wantChecks(t, "right after the grant", out, pass, "PASS public-ip", "PASS load-balancer", "FAIL subnet: AuthorizationFailed: …")
	aksidRun(t, "clock", "advance", "61m", "--data-dir", in.dataDir)
	out, pass = clusterCheck(t, in, "rg/c")
	wantChecks(t, "an hour later", out, pass, "PASS public-ip", "PASS load-balancer", "PASS subnet")
}
