package e2e

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// grantRole assigns a built-in role to a service principal through ARM.
func (in *instance) grantRole(t *testing.T, scope, roleID, principalID string) {
	t.Helper()
	sub := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"]
	in.armAdmin(t, "PUT", scope+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
		`{"properties":{"roleDefinitionId":"`+sub+`/providers/Microsoft.Authorization/roleDefinitions/`+roleID+`","principalId":"`+principalID+`","principalType":"ServicePrincipal"}}`)
}

type azAccount struct {
	ID, TenantID string
	User         struct{ Name, Type, AssignedIdentityInfo string }
}

// TestAzLoginWithManagedIdentity: the real az 2.45 in proxy mode, as an
// emulated VM (`aksid host env`): `az login --identity` with the VM's
// system-assigned identity finds no subscription until the identity holds
// a role, then `account show` shows the MSI login and RBAC decides what
// it may do; `--username` with a user-assigned identity's client ID or
// resource ID works when it is assigned to the VM and fails when it is
// not; with no host named, az signs in as the default host.
func TestAzLoginWithManagedIdentity(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	sub := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"]
	in.armAdmin(t, "POST", sub+"/providers/Microsoft.ManagedIdentity/register?api-version=2021-04-01", "")
	for _, g := range []string{"work", "closed"} {
		in.armAdmin(t, "PUT", sub+"/resourcegroups/"+g+"?api-version=2021-04-01", `{"location":"westus2"}`)
	}
	ui, other := in.newUAMI(t, "work", "ui-az"), in.newUAMI(t, "work", "ui-other")
	vm := hostCreate(t, in, "az-vm", "--system-assigned", "--identity", ui.ID)
	az := newProxyAz(t, in)
	// As after eval "$(aksid host env az-vm)": az (Python) prefers http_proxy.
	host := hostEnv(t, in, "az-vm")
	az.env = append(az.env, "HTTP_PROXY="+host["HTTP_PROXY"], "http_proxy="+host["http_proxy"]) // the last value wins

	az.fails("No access was configured for the VM", "login", "--identity", "-o", "none")
	in.grantRole(t, sub, readerRole, vm.SystemAssigned.PrincipalID)
	az.ok("login", "--identity", "-o", "none")
	var acct azAccount
	az.json(&acct, "account", "show")
	if "/subscriptions/"+acct.ID != sub || acct.TenantID != in.env["AZURE_TENANT_ID"] || acct.User.Name != "systemAssignedIdentity" ||
		acct.User.Type != "servicePrincipal" || acct.User.AssignedIdentityInfo != "MSI" {
		t.Fatalf("account after az login --identity: %+v", acct)
	}
	if groups := az.ok("group", "list", "--query", "[].name", "-o", "tsv"); !strings.Contains(groups, "work") {
		t.Fatalf("az group list as the VM: %q", groups)
	}
	az.fails("AuthorizationFailed", "group", "create", "-n", "not-allowed", "-l", "westus2", "-o", "none")

	// The user-assigned identity, by client ID and by resource ID: Reader
	// on its group only.
	az.fails("No access was configured for the VM", "login", "--identity", "--username", ui.Properties.ClientID, "-o", "none")
	in.grantRole(t, sub+"/resourceGroups/work", readerRole, ui.Properties.PrincipalID)
	az.ok("login", "--identity", "--username", ui.Properties.ClientID, "-o", "none")
	az.json(&acct, "account", "show")
	if acct.User.Name != "userAssignedIdentity" || acct.User.AssignedIdentityInfo != "MSIClient-"+ui.Properties.ClientID {
		t.Fatalf("account after az login --identity --username <client id>: %+v", acct)
	}
	if name := az.ok("group", "show", "-n", "work", "--query", "name", "-o", "tsv"); name != "work" {
		t.Fatalf("az group show as the user-assigned identity: %q", name)
	}
	az.fails("AuthorizationFailed", "group", "show", "-n", "closed")
	az.ok("login", "--identity", "--username", ui.ID, "-o", "none")
	az.json(&acct, "account", "show")
	if !strings.EqualFold(acct.User.AssignedIdentityInfo, "MSIResource-"+ui.ID) {
		t.Fatalf("account after az login --identity --username <resource id>: %+v", acct)
	}
	// An identity not assigned to this VM: az tries it as a client ID, then
	// as an object ID; IMDS answers 400 both times.
	az.fails("Failed to connect to MSI", "login", "--identity", "--username", other.Properties.ClientID, "-o", "none")

	// Naming no host: the default host's identity, which holds no role.
	def := newProxyAz(t, in)
	def.ok("login", "--identity", "--allow-no-subscriptions", "-o", "none")
	def.json(&acct, "account", "show")
	if acct.User.Name != "systemAssignedIdentity" || acct.ID != in.env["AZURE_TENANT_ID"] {
		t.Fatalf("account of the default host: %+v", acct)
	}
}
