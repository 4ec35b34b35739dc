package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestAzProxyMode: with `aksid env`'s proxy variables, az on its default
// AzureCloud runs the docs' commands verbatim; its tokens carry Azure's
// issuer and audiences.
func TestAzProxyMode(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]
	var login []struct{ ID, CloudName, TenantID string }
	az.json(&login, "login", "--service-principal", "-u", in.env["AKSID_ADMIN_CLIENT_ID"], "-p", in.env["AKSID_ADMIN_CLIENT_SECRET"], "--tenant", tid)
	if len(login) != 1 || login[0].ID != sub || login[0].CloudName != "AzureCloud" {
		t.Fatalf("az login: %+v", login)
	}
	var tok struct{ AccessToken string }
	az.json(&tok, "account", "get-access-token")
	if c := claimsOf(t, tok.AccessToken); c["aud"] != "https://management.core.windows.net/" || c["iss"] != "https://sts.windows.net/"+tid+"/" {
		t.Fatalf("ARM token: %v", c)
	}
	az.json(&tok, "account", "get-access-token", "--resource-type", "ms-graph")
	if c := claimsOf(t, tok.AccessToken); c["aud"] != "https://graph.microsoft.com/" {
		t.Fatalf("Graph token: %v", c)
	}
	if st := az.ok("group", "create", "--name", "myResourceGroup", "--location", "westus2", "--query", "properties.provisioningState", "-o", "tsv"); st != "Succeeded" {
		t.Fatalf("group create: %q", st)
	}
	var sp struct{ AppID, Password, Tenant string }
	az.json(&sp, "ad", "sp", "create-for-rbac", "--name", "myAKSClusterServicePrincipal")
	if sp.Tenant != tid || len(sp.Password) != 40 {
		t.Fatalf("create-for-rbac: %+v", sp)
	}
	end, err := time.Parse(time.RFC3339, az.ok("ad", "app", "credential", "list", "--id", sp.AppID, "--query", "[0].endDateTime", "-o", "tsv"))
	if err != nil || time.Until(end) < 364*24*time.Hour {
		t.Fatalf("credential list: %v %v", end, err)
	}
	secret := az.ok("ad", "app", "credential", "reset", "--id", sp.AppID, "--query", "password", "-o", "tsv")
	if st, _ := in.rawToken(sp.AppID, secret, armScope); st != 200 {
		t.Fatal("the reset secret does not work")
	}
	if st := az.ok("feature", "register", "--name", "MSIPreview", "--namespace", "Microsoft.ContainerService", "--query", "properties.state", "-o", "tsv"); st != "Registering" {
		t.Fatalf("feature register: %q", st)
	}
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")
	if st := az.ok("provider", "show", "-n", "Microsoft.ContainerService", "--query", "registrationState", "-o", "tsv"); st != "Registered" {
		t.Fatalf("provider: %q", st)
	}
	// Through the proxy aksid logs each request with its host.
	if logs := in.logText(); !strings.Contains(logs, "host=management.azure.com") || !strings.Contains(logs, "host=login.microsoftonline.com") {
		t.Fatal("proxied requests are not logged with their host")
	}
}
