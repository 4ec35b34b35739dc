package e2e

import (
	"strings"
	"testing"
)

// TestAzAKSAddonsAndLegacyAAD: an add-on's identity is made when it is
// enabled and deleted when it is disabled; a legacy Entra integration's
// applications are replaced with `update-credentials --reset-aad`, its
// server secret never shown; clusters without one refuse.
func TestAzAKSAddonsAndLegacyAAD(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	az.ok("group", "create", "--name", "rg", "--location", "westus2", "-o", "none")
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")
	az.ok("aks", "create", "-g", "rg", "-n", "c", "--enable-managed-identity", "--generate-ssh-keys", "-o", "none")
	nodeRG := "MC_rg_c_westus2"
	count := func() int {
		return len(strings.Fields(az.ok("identity", "list", "-g", nodeRG, "--query", "[].name", "-o", "tsv")))
	}
	if n := count(); n != 1 {
		t.Fatalf("identities before the add-on: %d", n)
	}
	az.ok("aks", "enable-addons", "-g", "rg", "-n", "c", "--addons", "azure-keyvault-secrets-provider", "-o", "none")
	if id := az.ok("aks", "show", "-g", "rg", "-n", "c", "--query", "addonProfiles.azureKeyvaultSecretsProvider.identity.clientId", "-o", "tsv"); id == "" || count() != 2 {
		t.Fatalf("add-on identity: %q, %d identities", id, count())
	}
	az.ok("aks", "disable-addons", "-g", "rg", "-n", "c", "--addons", "azure-keyvault-secrets-provider", "-o", "none")
	if n := count(); n != 1 {
		t.Fatalf("the add-on's identity outlived the add-on: %d identities", n)
	}
	az.fails("legacy", "aks", "update-credentials", "-g", "rg", "-n", "c", "--reset-aad", "--aad-server-app-id", "11111111-0000-4000-8000-000000000001",
		"--aad-server-app-secret", "s3cret-one", "--aad-client-app-id", "11111111-0000-4000-8000-000000000002")

	url := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/legacy?api-version=2022-11-01"
	az.ok("rest", "--method", "put", "--url", url, "--body", `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"legacy",
		"aadProfile":{"clientAppID":"11111111-0000-4000-8000-000000000002","serverAppID":"11111111-0000-4000-8000-000000000001","serverAppSecret":"first-secret"}}}`)
	az.ok("aks", "update-credentials", "-g", "rg", "-n", "legacy", "--reset-aad", "--aad-server-app-id", "11111111-0000-4000-8000-000000000003",
		"--aad-server-app-secret", "second-secret", "--aad-client-app-id", "11111111-0000-4000-8000-000000000004")
	shown := az.ok("aks", "show", "-g", "rg", "-n", "legacy", "-o", "json")
	if !strings.Contains(shown, "11111111-0000-4000-8000-000000000003") || strings.Contains(shown, "secret") && strings.Contains(shown, "second-secret") || strings.Contains(shown, "first-secret") {
		t.Fatalf("legacy AAD profile after reset:\n%s", shown)
	}
}
