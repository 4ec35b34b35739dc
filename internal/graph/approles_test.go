package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const (
	graphApp            = "00000003-0000-0000-c000-000000000000"
	appReadWriteAllRole = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9"
)

// TestAppRoleAssignmentsReachTokens: Graph's application permissions
// are assigned to a service principal as scripts do (looked up by value
// on Microsoft Graph's principal, POSTed to appRoleAssignedTo); its next
// token for Graph carries them in roles and Graph honours them, its
// tokens for other resources do not; a custom API's roles reach a user
// through a group; refusals for a role the resource lacks, a member type
// it does not allow and a duplicate; removal takes the role away.
func TestAppRoleAssignmentsReachTokens(t *testing.T) {
	s := start(t)
	adm := s.admin
	graphSPs := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("appId eq '"+graphApp+"'"), nil).values()
	if len(graphSPs) != 1 {
		t.Fatalf("Microsoft Graph's principal %v", graphSPs)
	}
	graphSP := graphSPs[0]["id"].(string)
	roleID := ""
	for _, r := range graphSPs[0]["appRoles"].([]any) {
		if r := r.(map[string]any); r["value"] == "Application.ReadWrite.All" {
			roleID = r["id"].(string)
		}
	}
	if roleID != appReadWriteAllRole {
		t.Fatalf("Application.ReadWrite.All on Graph's principal: %q", roleID)
	}

	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "ci"})
	ciSP := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.str("appId")}).str("id")
	secret := s.must(t, 200, adm, "POST", "/v1.0/applications/"+app.str("id")+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "ci"}}).str("secretText")
	ciToken := func(scope string) (string, []any) {
		tok := s.token(t, app.str("appId"), secret, scope)
		roles, _ := claims(t, tok)["roles"].([]any)
		return tok, roles
	}
	tok, roles := ciToken("https://graph.microsoft.com/.default")
	if len(roles) != 0 {
		t.Fatalf("roles before any assignment %v", roles)
	}
	s.must(t, 403, tok, "POST", "/v1.0/applications", map[string]any{"displayName": "made-by-ci"})

	body := map[string]any{"principalId": ciSP, "resourceId": graphSP, "appRoleId": roleID}
	a := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals/"+graphSP+"/appRoleAssignedTo", body)
	if a.str("principalType") != "ServicePrincipal" || a.str("principalDisplayName") != "ci" || a.str("resourceDisplayName") != "Microsoft Graph" ||
		!strings.HasPrefix(a.str("id"), base64.RawURLEncoding.EncodeToString(dotNet(ciSP))[:21]) || len(a.str("id")) != 43 {
		t.Fatalf("assignment %s", a.raw)
	}
	if dup := s.must(t, 400, adm, "POST", "/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments", body); dup.errMessage() != "Permission being assigned already exists on the object" {
		t.Fatalf("duplicate %s", dup.raw)
	}
	unknown := s.must(t, 400, adm, "POST", "/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments",
		map[string]any{"principalId": ciSP, "resourceId": graphSP, "appRoleId": "0b0b0b0b-0000-4000-8000-000000000000"})
	if unknown.errMessage() != "Permission being assigned was not found on application '"+graphApp+"'." {
		t.Fatalf("unknown role %s", unknown.raw)
	}
	s.must(t, 400, adm, "POST", "/v1.0/servicePrincipals/"+graphSP+"/appRoleAssignments", body) // the path is not the principal

	tok, roles = ciToken("https://graph.microsoft.com/.default")
	if !slices.Equal(roles, []any{"Application.ReadWrite.All"}) {
		t.Fatalf("roles after the assignment %v", roles)
	}
	s.must(t, 201, tok, "POST", "/v1.0/applications", map[string]any{"displayName": "made-by-ci"})
	if _, arm := ciToken("https://management.azure.com/.default"); len(arm) != 0 {
		t.Fatalf("Graph's roles in a Resource Manager token: %v", arm)
	}
	held := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments", nil).values()
	if len(held) != 1 || held[0]["appRoleId"] != roleID {
		t.Fatalf("appRoleAssignments %v", held)
	}

	// A custom API's role, to users only, reaches a user through a group.
	api := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "tasks-api", "appRoles": []any{
		map[string]any{"id": "11111111-1111-4111-8111-111111111111", "value": "Tasks.Read", "displayName": "Read tasks",
			"description": "Read tasks", "allowedMemberTypes": []string{"User"}, "isEnabled": true},
		map[string]any{"id": "22222222-2222-4222-8222-222222222222", "value": "Tasks.Sync", "displayName": "Sync tasks",
			"description": "Sync tasks", "allowedMemberTypes": []string{"Application"}, "isEnabled": true}}})
	apiSP := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": api.str("appId")}).str("id")
	// The user signs in through AKS's client, which needs consent on it.
	aksClient := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("appId eq '80faf920-1908-4b52-b5ef-a8e7bedfc67a'"), nil).values()
	if len(aksClient) != 1 {
		t.Fatalf("AKS client principal %v", aksClient)
	}
	s.must(t, 201, adm, "POST", "/v1.0/oauth2PermissionGrants", map[string]any{"clientId": aksClient[0]["id"], "consentType": "AllPrincipals",
		"resourceId": apiSP, "scope": "Tasks.Access"})
	user := s.must(t, 201, adm, "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "Rita",
		"mailNickname": "rita", "userPrincipalName": "rita@aksid.local",
		"passwordProfile": map[string]any{"password": "Secr3t-pass", "forceChangePasswordNextSignIn": false}}).str("id")
	group := s.must(t, 201, adm, "POST", "/v1.0/groups", map[string]any{"displayName": "readers", "mailNickname": "readers",
		"mailEnabled": false, "securityEnabled": true}).str("id")
	s.must(t, 204, adm, "POST", "/v1.0/groups/"+group+"/members/$ref", map[string]any{"@odata.id": s.URL + "/v1.0/directoryObjects/" + user})
	if wrong := s.must(t, 400, adm, "POST", "/v1.0/users/"+user+"/appRoleAssignments",
		map[string]any{"principalId": user, "resourceId": apiSP, "appRoleId": "22222222-2222-4222-8222-222222222222"}); !strings.Contains(wrong.errMessage(), "cannot be assigned") {
		t.Fatalf("an application-only role to a user %s", wrong.raw)
	}
	s.must(t, 201, adm, "POST", "/v1.0/groups/"+group+"/appRoleAssignments",
		map[string]any{"principalId": group, "resourceId": apiSP, "appRoleId": "11111111-1111-4111-8111-111111111111"})
	if got := userRoles(t, s, "rita@aksid.local", "Secr3t-pass", api.str("appId")+"/.default"); !slices.Equal(got, []any{"Tasks.Read"}) {
		t.Fatalf("user's roles on the API %v", got)
	}
	if got := userRoles(t, s, "rita@aksid.local", "Secr3t-pass", "https://graph.microsoft.com/.default"); len(got) != 0 {
		t.Fatalf("user's roles on Graph %v", got)
	}
	if on := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals/"+apiSP+"/appRoleAssignedTo", nil).values(); len(on) != 1 || on[0]["principalType"] != "Group" {
		t.Fatalf("appRoleAssignedTo %v", on)
	}

	// A principal without AppRoleAssignment.ReadWrite.All cannot assign,
	// not even to itself.
	if denied := s.must(t, 403, tok, "POST", "/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments",
		map[string]any{"principalId": ciSP, "resourceId": graphSP, "appRoleId": "19dbc75e-c2e2-444c-a770-ec69d8559fc7"}); denied.errCode() != "Authorization_RequestDenied" {
		t.Fatalf("self-assignment %s", denied.raw)
	}

	// Removal takes the role away; deleting the resource ends the rest.
	s.must(t, 204, adm, "DELETE", "/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments/"+a.str("id"), nil)
	s.must(t, 404, adm, "DELETE", "/v1.0/servicePrincipals/"+ciSP+"/appRoleAssignments/"+a.str("id"), nil)
	if _, roles = ciToken("https://graph.microsoft.com/.default"); len(roles) != 0 {
		t.Fatalf("roles after removal %v", roles)
	}
	s.must(t, 204, adm, "DELETE", "/v1.0/servicePrincipals/"+apiSP, nil)
	if held := s.must(t, 200, adm, "GET", "/v1.0/groups/"+group+"/appRoleAssignments", nil).values(); len(held) != 0 {
		t.Fatalf("assignments on a deleted resource %v", held)
	}
}

// claims decodes a JWT's payload without checking it (the server's own
// tests check signatures).
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("token payload: %v", err)
	}
	return m
}

// userRoles signs a user in with the password grant through AKS's public
// client and returns the access token's roles.
func userRoles(t *testing.T, s *server, upn, password, scope string) []any {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {"80faf920-1908-4b52-b5ef-a8e7bedfc67a"},
		"username": {upn}, "password": {password}, "scope": {scope}}
	resp, err := s.client.PostForm(s.URL+"/"+s.TenantID+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("password grant: %d %s", resp.StatusCode, b)
	}
	roles, _ := claims(t, tok.AccessToken)["roles"].([]any)
	return roles
}

// TestOwnedByWritesOnlyWhatItOwns: a principal holding Graph's
// Application.ReadWrite.OwnedBy creates applications (owning them),
// rotates their secrets and deletes them, but cannot touch an application
// it does not own until it is made an owner, nor add owners itself.
func TestOwnedByWritesOnlyWhatItOwns(t *testing.T) {
	s := start(t)
	adm := s.admin
	graphSP := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("appId eq '"+graphApp+"'"), nil).values()[0]["id"].(string)
	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "rotator"})
	sp := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.str("appId")}).str("id")
	secret := s.must(t, 200, adm, "POST", "/v1.0/applications/"+app.str("id")+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "x"}}).str("secretText")
	s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals/"+sp+"/appRoleAssignments",
		map[string]any{"principalId": sp, "resourceId": graphSP, "appRoleId": "18a4783c-866b-4cc7-a460-3d5e5662c884"})
	tok := s.token(t, app.str("appId"), secret, "https://graph.microsoft.com/.default")
	if roles, _ := claims(t, tok)["roles"].([]any); !slices.Equal(roles, []any{"Application.ReadWrite.OwnedBy"}) {
		t.Fatalf("roles %v", roles)
	}

	created := s.must(t, 201, tok, "POST", "/v1.0/applications", map[string]any{"displayName": "mine"})
	mine := created.str("id")
	// Its application's principal is its to manage too.
	mineSP := s.must(t, 201, tok, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": created.str("appId")}).str("id")
	s.must(t, 204, tok, "PATCH", "/v1.0/servicePrincipals/"+mineSP, map[string]any{"displayName": "mine's principal"})
	s.must(t, 403, tok, "PATCH", "/v1.0/servicePrincipals/"+graphSP, map[string]any{"displayName": "taken"})
	s.must(t, 200, tok, "POST", "/v1.0/applications/"+mine+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "r"}})
	s.must(t, 204, tok, "PATCH", "/v1.0/applications/"+mine, map[string]any{"displayName": "mine, renamed"})

	other := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "not-mine"}).str("id")
	s.must(t, 403, tok, "POST", "/v1.0/applications/"+other+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "r"}})
	s.must(t, 403, tok, "PATCH", "/v1.0/applications/"+other, map[string]any{"displayName": "taken"})
	s.must(t, 403, tok, "POST", "/v1.0/applications/"+mine+"/owners/$ref", map[string]any{"@odata.id": s.URL + "/v1.0/directoryObjects/" + graphSP})
	s.must(t, 403, tok, "POST", "/v1.0/groups", map[string]any{"displayName": "g", "mailNickname": "g", "mailEnabled": false, "securityEnabled": true})

	s.must(t, 204, adm, "POST", "/v1.0/applications/"+other+"/owners/$ref", map[string]any{"@odata.id": s.URL + "/v1.0/directoryObjects/" + sp})
	s.must(t, 200, tok, "POST", "/v1.0/applications/"+other+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "r"}})
	s.must(t, 204, tok, "DELETE", "/v1.0/applications/"+mine, nil)
	s.must(t, 404, tok, "DELETE", "/v1.0/applications/"+mine, nil)

	// An administrator that also holds OwnedBy still writes what it does
	// not own.
	botApp := s.must(t, 201, tok, "POST", "/v1.0/applications", map[string]any{"displayName": "bots"}).str("id")
	admSP := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("appId eq '"+s.AdminAppID+"'"), nil).values()[0]["id"].(string)
	s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals/"+admSP+"/appRoleAssignments",
		map[string]any{"principalId": admSP, "resourceId": graphSP, "appRoleId": "18a4783c-866b-4cc7-a460-3d5e5662c884"})
	adm2 := s.token(t, s.AdminAppID, s.AdminSecret, "https://graph.microsoft.com/.default")
	s.must(t, 204, adm2, "PATCH", "/v1.0/applications/"+botApp, map[string]any{"displayName": "bots, renamed by the admin"})
}
