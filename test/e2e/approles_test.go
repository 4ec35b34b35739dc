package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAzAppRoleAssignment: a CI principal given Microsoft Graph's
// Application.ReadWrite.OwnedBy the way scripts do it with the real az in
// proxy mode (the role's ID looked up on Graph's principal, then `az rest`
// to appRoleAssignments, URLs verbatim) signs in and manages the
// applications it creates, and is refused on one it does not own.
func TestAzAppRoleAssignment(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	creds := adminUser(t, in)
	az := newProxyAz(t, in)
	az.loginUser(creds.upn, creds.password)
	graphSP := az.ok("ad", "sp", "show", "--id", "00000003-0000-0000-c000-000000000000", "--query", "id", "-o", "tsv")
	roleID := az.ok("ad", "sp", "show", "--id", "00000003-0000-0000-c000-000000000000",
		"--query", "appRoles[?value=='Application.ReadWrite.OwnedBy'].id", "-o", "tsv")
	if roleID != "18a4783c-866b-4cc7-a460-3d5e5662c884" {
		t.Fatalf("Application.ReadWrite.OwnedBy's ID on Graph's principal: %q", roleID)
	}
	var ci struct{ AppID, Password, Tenant string }
	az.json(&ci, "ad", "sp", "create-for-rbac", "--name", "ci-rotator")
	ciSP := az.ok("ad", "sp", "show", "--id", ci.AppID, "--query", "id", "-o", "tsv")
	other := az.ok("ad", "app", "create", "--display-name", "someone-elses", "--query", "appId", "-o", "tsv")

	body, _ := json.Marshal(map[string]string{"principalId": ciSP, "resourceId": graphSP, "appRoleId": roleID})
	var a map[string]any
	az.json(&a, "rest", "--method", "POST", "--uri", "https://graph.microsoft.com/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments",
		"--body", string(body))
	if a["principalId"] != ciSP || a["resourceDisplayName"] != "Microsoft Graph" {
		t.Fatalf("assignment %v", a)
	}
	held := az.ok("rest", "--method", "GET", "--uri", "https://graph.microsoft.com/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments",
		"--query", "value[].appRoleId", "-o", "tsv")
	if held != roleID {
		t.Fatalf("appRoleAssignments %q", held)
	}

	bot := newProxyAz(t, in)
	bot.loginSP(ci.AppID, ci.Password, ci.Tenant)
	mine := bot.ok("ad", "app", "create", "--display-name", "made-by-ci", "--query", "appId", "-o", "tsv")
	if owners := bot.ok("ad", "app", "owner", "list", "--id", mine, "--query", "[].id", "-o", "tsv"); owners != ciSP {
		t.Fatalf("owners of the CI principal's application: %q", owners)
	}
	if pw := bot.ok("ad", "app", "credential", "reset", "--id", mine, "--query", "password", "-o", "tsv"); len(pw) < 30 {
		t.Fatalf("secret reset by its owner: %q", pw)
	}
	bot.fails("Insufficient privileges", "ad", "app", "credential", "reset", "--id", other)

	// Removal: the principal's next token no longer carries the role (the
	// one az holds keeps it until it expires, as in Entra).
	aid, _ := a["id"].(string)
	az.ok("rest", "--method", "DELETE", "--uri", "https://graph.microsoft.com/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments/"+aid)
	bot.ok("account", "clear")
	bot.loginSP(ci.AppID, ci.Password, ci.Tenant)
	_, stderr, ok := bot.run("ad", "app", "create", "--display-name", "too-late")
	if ok || !strings.Contains(stderr, "Insufficient privileges") {
		t.Fatalf("creating an application after the role was removed: ok=%v %s", ok, stderr)
	}
}

// TestAzAdminConsent: the permission steps of AKS's legacy Entra
// integration doc with the real az in proxy mode: `ad app permission add`
// of Graph's User.Read and Directory.Read.All (delegated) and
// Directory.Read.All (application), `permission grant`, then
// `permission admin-consent`, which az sends to the portal's own API:
// the grant gains the consented scopes, the principal holds the role and
// its next Graph token carries it. A user who is not an administrator is
// refused.
func TestAzAdminConsent(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	creds := adminUser(t, in)
	az := newProxyAz(t, in)
	az.loginUser(creds.upn, creds.password)
	tenant := az.ok("account", "show", "--query", "tenantId", "-o", "tsv")
	server := az.ok("ad", "app", "create", "--display-name", "aksServer", "--identifier-uris", "api://"+tenant+"/aksServer", "--query", "appId", "-o", "tsv")
	az.ok("ad", "app", "update", "--id", server, "--set", "groupMembershipClaims=All")
	az.ok("ad", "sp", "create", "--id", server, "-o", "none")
	secret := az.ok("ad", "app", "credential", "reset", "--id", server, "--query", "password", "-o", "tsv")
	az.ok("ad", "app", "permission", "add", "--id", server, "--api", "00000003-0000-0000-c000-000000000000", "--api-permissions",
		"e1fe6dd8-ba31-4d61-89e7-88639da4683d=Scope", "06da0dbc-49e2-44d2-8312-53f166ab848a=Scope", "7ab1d382-f21e-4acd-a863-ba3e13f7da61=Role")
	az.ok("ad", "app", "permission", "grant", "--id", server, "--api", "00000003-0000-0000-c000-000000000000", "--scope", "User.Read", "-o", "none")

	other := newProxyAz(t, in)
	dana := in.createUser(t, "--name", "dana@aksid.local", "--password", "Dana-secret-42")
	other.ok("login", "-u", dana.UPN, "-p", "Dana-secret-42", "--allow-no-subscriptions", "-o", "none")
	other.fails("needs an administrator", "ad", "app", "permission", "admin-consent", "--id", server)

	az.ok("ad", "app", "permission", "admin-consent", "--id", server)
	var grants []map[string]any
	az.json(&grants, "ad", "app", "permission", "list-grants", "--id", server)
	if len(grants) != 1 || grants[0]["scope"] != "User.Read Directory.Read.All" || grants[0]["consentType"] != "AllPrincipals" {
		t.Fatalf("grants after admin consent %v", grants)
	}
	bot := newProxyAz(t, in)
	bot.loginSP(server, secret, tenant)
	tok := bot.ok("account", "get-access-token", "--resource", "https://graph.microsoft.com", "--query", "accessToken", "-o", "tsv")
	if roles, _ := claimsOf(t, tok)["roles"].([]any); len(roles) != 1 || roles[0] != "Directory.Read.All" {
		t.Fatalf("roles in the server principal's Graph token after consent: %v", roles)
	}
}
