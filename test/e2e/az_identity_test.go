package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestAzIdentityCommands runs the AKS docs' identity commands verbatim
// with the real az in custom-cloud mode and checks what they print.
func TestAzIdentityCommands(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newAz(t, in)
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]

	var login []struct {
		ID, TenantID, State string
		User                struct{ Name, Type string }
	}
	az.json(&login, "login", "--service-principal", "-u", in.env["AKSID_ADMIN_CLIENT_ID"], "-p", in.env["AKSID_ADMIN_CLIENT_SECRET"], "--tenant", tid)
	if len(login) != 1 || login[0].ID != sub || login[0].TenantID != tid || login[0].User.Type != "servicePrincipal" {
		t.Fatalf("az login: %+v", login)
	}
	var account struct{ ID, TenantID, EnvironmentName string }
	az.json(&account, "account", "show")
	if account.ID != sub || account.EnvironmentName != "aksid" {
		t.Fatalf("az account show: %+v", account)
	}
	var tok struct {
		AccessToken, Subscription, Tenant, TokenType string
	}
	az.json(&tok, "account", "get-access-token", "--resource", aksServerApp)
	if c := claimsOf(t, tok.AccessToken); c["aud"] != aksServerApp || c["tid"] != tid {
		t.Fatalf("get-access-token --resource: %v", c)
	}
	az.json(&tok, "account", "get-access-token")
	if c := claimsOf(t, tok.AccessToken); c["aud"] != "https://management.core.windows.net/" {
		t.Fatalf("get-access-token: %v", c)
	}

	var group struct {
		ID, Location, Name string
		Properties         struct{ ProvisioningState string }
	}
	az.json(&group, "group", "create", "--name", "myResourceGroup", "--location", "westus2")
	if group.Name != "myResourceGroup" || group.Location != "westus2" || group.Properties.ProvisioningState != "Succeeded" ||
		!strings.EqualFold(group.ID, "/subscriptions/"+sub+"/resourceGroups/myResourceGroup") {
		t.Fatalf("az group create: %+v", group)
	}

	var sp struct{ AppID, DisplayName, Password, Tenant string }
	az.json(&sp, "ad", "sp", "create-for-rbac", "--name", "myAKSClusterServicePrincipal")
	if sp.DisplayName != "myAKSClusterServicePrincipal" || sp.Tenant != tid || len(sp.Password) != 40 {
		t.Fatalf("create-for-rbac: %+v", sp)
	}
	var again struct{ AppID, Password string }
	az.json(&again, "ad", "sp", "create-for-rbac", "--name", "myAKSClusterServicePrincipal")
	if again.AppID != sp.AppID || again.Password == sp.Password {
		t.Fatalf("create-for-rbac again must reuse the app with a new secret: %+v vs %+v", again, sp)
	}
	// The secret the second run printed works.
	if st, _ := in.rawToken(sp.AppID, again.Password, armScope); st != 200 {
		t.Fatal("the secret create-for-rbac printed does not work")
	}

	end := az.ok("ad", "app", "credential", "list", "--id", sp.AppID, "--query", "[].endDateTime", "-o", "tsv")
	ends := strings.Fields(end)
	if len(ends) == 0 {
		t.Fatal("no credentials listed")
	}
	for _, e := range ends {
		when, err := time.Parse(time.RFC3339, e)
		if err != nil {
			t.Fatalf("endDateTime %q: %v", e, err)
		}
		if d := time.Until(when); d < 364*24*time.Hour || d > 366*24*time.Hour {
			t.Fatalf("endDateTime %s is not a year ahead", e)
		}
	}
	newSecret := az.ok("ad", "app", "credential", "reset", "--id", sp.AppID, "--query", "password", "-o", "tsv")
	if st, _ := in.rawToken(sp.AppID, newSecret, armScope); st != 200 {
		t.Fatal("the reset secret does not work")
	}
	if st, m := in.rawToken(sp.AppID, again.Password, armScope); st != 401 || errorCode(m) != 7000215 {
		t.Fatalf("the old secret still works after reset: %d %v", st, m)
	}

	// Role assignment: Debian's az crashes on the client here, so the
	// server side is proven with `az rest` sending what az would.
	assignment := uuid.NewString()
	body := `{"properties":{"roleDefinitionId":"/subscriptions/` + sub + `/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c","principalId":"` + spObjectID(t, az, sp.AppID) + `","principalType":"ServicePrincipal"}}`
	var ra struct {
		ID, Name   string
		Properties struct{ Scope, PrincipalID, RoleDefinitionID string }
	}
	az.json(&ra, "rest", "--method", "put", "--url", "/subscriptions/"+sub+"/resourceGroups/myResourceGroup/providers/Microsoft.Authorization/roleAssignments/"+assignment+"?api-version=2022-04-01", "--body", body)
	if ra.Name != assignment || !strings.EqualFold(ra.Properties.Scope, "/subscriptions/"+sub+"/resourceGroups/myResourceGroup") {
		t.Fatalf("role assignment: %+v", ra)
	}

	var feature struct {
		Name       string
		Properties struct{ State string }
	}
	az.json(&feature, "feature", "register", "--name", "MSIPreview", "--namespace", "Microsoft.ContainerService")
	if feature.Name != "Microsoft.ContainerService/MSIPreview" || feature.Properties.State != "Registering" {
		t.Fatalf("feature register: %+v", feature)
	}
	query := "[?contains(name, 'Microsoft.ContainerService/MSIPreview')].{Name:name,State:properties.state}"
	if out := az.ok("feature", "list", "-o", "table", "--query", query); !strings.Contains(out, "Registering") {
		t.Fatalf("feature list:\n%s", out)
	}
	aksidRun(t, "clock", "advance", "10m", "--data-dir", in.dataDir)
	if out := az.ok("feature", "list", "-o", "table", "--query", query); !strings.Contains(out, "Registered") || strings.Contains(out, "Registering") {
		t.Fatalf("feature list after the delay:\n%s", out)
	}
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")
	if st := az.ok("provider", "show", "-n", "Microsoft.ContainerService", "--query", "registrationState", "-o", "tsv"); st != "Registered" {
		t.Fatalf("provider state %q", st)
	}

	az.ok("group", "delete", "--name", "myResourceGroup", "--yes")
	if exists := az.ok("group", "exists", "--name", "myResourceGroup"); exists != "false" {
		t.Fatalf("group exists after delete: %q", exists)
	}

	az.ok("ad", "sp", "delete", "--id", sp.AppID)
	if st, m := in.rawToken(sp.AppID, newSecret, armScope); st != 400 || errorCode(m) != 700016 {
		t.Fatalf("a deleted principal still signs in: %d %v", st, m)
	}
}

func spObjectID(t *testing.T, az *azCLI, appID string) string {
	t.Helper()
	id := az.ok("ad", "sp", "show", "--id", appID, "--query", "id", "-o", "tsv")
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("sp object id %q", id)
	}
	return id
}
