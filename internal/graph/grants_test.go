package graph_test

import (
	"encoding/base64"
	"testing"

	"github.com/google/uuid"
)

// TestPermissionGrantsAsAzUsesThem follows `az ad app permission grant`
// (delete the client's grants on the resource, then POST), `list-grants`
// and a grant for one user; Graph's refusals for bad bodies.
func TestPermissionGrantsAsAzUsesThem(t *testing.T) {
	s := start(t)
	adm := s.admin
	sp := func(name string) string {
		app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": name})
		return s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.str("appId")}).str("id")
	}
	client, resource := sp("grant-client"), sp("grant-api")
	body := map[string]any{"clientId": client, "consentType": "AllPrincipals", "principalId": nil,
		"resourceId": resource, "scope": "user_impersonation"}
	g := s.must(t, 201, adm, "POST", "/v1.0/oauth2PermissionGrants", body)
	wantID := base64.RawURLEncoding.EncodeToString(append(dotNet(client), dotNet(resource)...))
	if g.str("id") != wantID || g.str("consentType") != "AllPrincipals" || g.m["principalId"] != nil || g.str("scope") != "user_impersonation" {
		t.Fatalf("grant %s (id want %s)", g.raw, wantID)
	}
	if dup := s.must(t, 409, adm, "POST", "/v1.0/oauth2PermissionGrants", body); dup.errMessage() != "Permission entry already exists." {
		t.Fatalf("second grant %s", dup.raw)
	}

	listed := s.must(t, 200, adm, "GET", "/v1.0/oauth2PermissionGrants"+filter("clientId eq '"+client+"'"), nil).values()
	if len(listed) != 1 || listed[0]["id"] != wantID || listed[0]["resourceId"] != resource {
		t.Fatalf("list-grants %v", listed)
	}
	if other := s.must(t, 200, adm, "GET", "/v1.0/oauth2PermissionGrants"+filter("clientId eq '"+resource+"'"), nil).values(); len(other) != 0 {
		t.Fatalf("filter by another client %v", other)
	}
	if held := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals/"+client+"/oauth2PermissionGrants", nil).values(); len(held) != 1 {
		t.Fatalf("the client's grants %v", held)
	}
	s.must(t, 204, adm, "PATCH", "/v1.0/oauth2PermissionGrants/"+wantID, map[string]any{"scope": "user_impersonation  read"})
	if got := s.must(t, 200, adm, "GET", "/v1.0/oauth2PermissionGrants/"+wantID, nil).str("scope"); got != "user_impersonation read" {
		t.Fatalf("scope after PATCH %q", got)
	}
	// az deletes with this casing of the segment.
	s.must(t, 204, adm, "DELETE", "/v1.0/oAuth2PermissionGrants/"+wantID, nil)
	s.must(t, 404, adm, "GET", "/v1.0/oauth2PermissionGrants/"+wantID, nil)

	// For one user; the user's deletion revokes it.
	user := s.must(t, 201, adm, "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "Gina",
		"mailNickname": "gina", "userPrincipalName": "gina@aksid.local",
		"passwordProfile": map[string]any{"password": "Secr3t-pass", "forceChangePasswordNextSignIn": false}}).str("id")
	one := s.must(t, 201, adm, "POST", "/v1.0/oauth2PermissionGrants", map[string]any{"clientId": client, "consentType": "Principal",
		"principalId": user, "resourceId": resource, "scope": "read"})
	if one.str("principalId") != user || len(one.str("id")) != 64 {
		t.Fatalf("grant for one user %s", one.raw)
	}
	s.must(t, 204, adm, "DELETE", "/v1.0/users/"+user, nil)
	s.must(t, 404, adm, "GET", "/v1.0/oauth2PermissionGrants/"+one.str("id"), nil)

	for _, bad := range []struct {
		status int
		body   map[string]any
		msg    string
	}{
		{400, map[string]any{"clientId": client, "resourceId": resource, "consentType": "Everyone", "scope": "x"},
			"Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'."},
		{400, map[string]any{"clientId": client, "resourceId": resource, "scope": "x"},
			"Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'."},
		{400, map[string]any{"clientId": "not-a-guid", "resourceId": resource, "consentType": "AllPrincipals"},
			"Invalid value specified for property 'clientId' of resource 'OAuth2PermissionGrant'."},
		{400, map[string]any{"clientId": client, "resourceId": resource, "consentType": "Principal"},
			"principalId is required when consentType is Principal."},
		{404, map[string]any{"clientId": client, "resourceId": "0b0b0b0b-0000-4000-8000-000000000000", "consentType": "AllPrincipals"},
			"Resource '0b0b0b0b-0000-4000-8000-000000000000' does not exist or one of its queried reference-property objects are not present."},
		{400, map[string]any{"clientId": client, "resourceId": resource, "consentType": "AllPrincipals", "expiry": "x"},
			"Property 'expiry' does not exist as a declared property or extension property."},
	} {
		if got := s.must(t, bad.status, adm, "POST", "/v1.0/oauth2PermissionGrants", bad.body); got.errMessage() != bad.msg {
			t.Errorf("%v: %s", bad.body, got.raw)
		}
	}

	// A principal without a write permission reads grants but makes none.
	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "reader"})
	s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.str("appId")})
	pw := s.must(t, 200, adm, "POST", "/v1.0/applications/"+app.str("id")+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "x"}})
	plain := s.token(t, app.str("appId"), pw.str("secretText"), "https://graph.microsoft.com/.default")
	s.must(t, 200, plain, "GET", "/v1.0/oauth2PermissionGrants", nil)
	s.must(t, 403, plain, "POST", "/v1.0/oauth2PermissionGrants", body)
}

// dotNet is a GUID's bytes in .NET's order (Guid.ToByteArray), which
// Entra's grant IDs are made of.
func dotNet(id string) []byte {
	u := uuid.MustParse(id)
	b := u[:]
	return []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}
}
