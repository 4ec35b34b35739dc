package graph_test

import (
	"strings"
	"testing"
)

func TestTokensAndPermissions(t *testing.T) {
	s := start(t)
	none := s.call(t, "", "GET", "/v1.0/applications", nil)
	if none.status != 401 || none.errCode() != "InvalidAuthenticationToken" || none.errMessage() != "Access token is empty." ||
		!strings.Contains(none.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %s", none.status, none.raw)
	}
	arm := s.token(t, s.AdminAppID, s.AdminSecret, "https://management.azure.com/.default")
	if r := s.call(t, arm, "GET", "/v1.0/applications", nil); r.status != 401 || r.errMessage() != "Access token validation failure. Invalid audience." {
		t.Fatalf("ARM token: %d %s", r.status, r.raw)
	}
	if r := s.call(t, "eyJhbGciOiJub25lIn0.e30.", "GET", "/v1.0/applications", nil); r.status != 401 || r.errCode() != "InvalidAuthenticationToken" {
		t.Fatalf("unsigned token: %d %s", r.status, r.raw)
	}

	// A principal without a directory role or an application permission
	// may read but not write.
	app := s.must(t, 201, s.admin, "POST", "/v1.0/applications", map[string]any{"displayName": "plain"})
	s.must(t, 201, s.admin, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.str("appId")})
	secret := s.must(t, 200, s.admin, "POST", "/v1.0/applications/"+app.str("id")+"/addPassword", map[string]any{}).str("secretText")
	plain := s.token(t, app.str("appId"), secret, "https://graph.microsoft.com/.default")
	s.must(t, 200, plain, "GET", "/v1.0/applications", nil)
	s.must(t, 200, plain, "GET", "/v1.0/servicePrincipals"+filter("appId eq '"+app.str("appId")+"'"), nil)
	for _, w := range []struct{ method, path string }{
		{"POST", "/v1.0/applications"}, {"PATCH", "/v1.0/applications/" + app.str("id")},
		{"POST", "/v1.0/applications/" + app.str("id") + "/addPassword"}, {"POST", "/v1.0/groups"},
		{"DELETE", "/v1.0/applications(appId='" + app.str("appId") + "')"},
	} {
		r := s.call(t, plain, w.method, w.path, map[string]any{"displayName": "nope"})
		if r.status != 403 || r.errCode() != "Authorization_RequestDenied" || r.errMessage() != "Insufficient privileges to complete the operation." {
			t.Fatalf("%s %s as plain principal: %d %s", w.method, w.path, r.status, r.raw)
		}
	}
	s.must(t, 200, s.admin, "GET", "/v1.0/applications/"+app.str("id"), nil)
}

// TestHostileInputGetsGraphAnswers sends bad requests and checks each
// gets Graph's status, code and body shape (message and innerError),
// never a 5xx and never an internal detail.
func TestHostileInputGetsGraphAnswers(t *testing.T) {
	s := start(t)
	app := s.must(t, 201, s.admin, "POST", "/v1.0/applications", map[string]any{"displayName": "target"})
	objID := app.str("id")
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, msg          string
	}{
		{"unknown application", "GET", "/v1.0/applications/0b0b0b0b-0000-4000-8000-000000000000", nil, 404, "Request_ResourceNotFound",
			"Resource '0b0b0b0b-0000-4000-8000-000000000000' does not exist or one of its queried reference-property objects are not present."},
		{"unknown principal", "DELETE", "/v1.0/servicePrincipals/0b0b0b0b-0000-4000-8000-000000000000", nil, 404, "Request_ResourceNotFound", ""},
		{"unknown user", "GET", "/v1.0/users/nobody@aksid.local", nil, 404, "Request_ResourceNotFound",
			"Resource 'nobody@aksid.local' does not exist or one of its queried reference-property objects are not present."},
		{"malformed id", "GET", "/v1.0/applications/x'%20OR%201=1--", nil, 400, "Request_BadRequest", "Invalid object identifier 'x' OR 1=1--'."},
		{"broken JSON", "POST", "/v1.0/applications", `{"displayName":`, 400, "Request_BadRequest",
			"Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."},
		{"array body", "POST", "/v1.0/applications", `[]`, 400, "Request_BadRequest", ""},
		{"unknown property", "POST", "/v1.0/applications", map[string]any{"displayName": "x", "frob": 1}, 400, "Request_BadRequest",
			"Property 'frob' does not exist as a declared property or extension property."},
		{"wrong type", "PATCH", "/v1.0/applications/" + objID, map[string]any{"displayName": 5}, 400, "Request_BadRequest",
			"Invalid value specified for property 'displayName' of resource 'Application'."},
		{"no displayName", "POST", "/v1.0/applications", map[string]any{}, 400, "Request_BadRequest", ""},
		{"secrets by PATCH", "PATCH", "/v1.0/applications/" + objID, map[string]any{"passwordCredentials": []any{map[string]any{"secretText": "x"}}}, 400, "Request_BadRequest", ""},
		{"bad date", "POST", "/v1.0/applications/" + objID + "/addPassword", map[string]any{"passwordCredential": map[string]any{"endDateTime": "tomorrow"}}, 400, "Request_BadRequest", ""},
		{"end before start", "POST", "/v1.0/applications/" + objID + "/addPassword", map[string]any{"passwordCredential": map[string]any{
			"startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2029-01-01T00:00:00Z"}}, 400, "Request_BadRequest", ""},
		{"unknown keyId", "POST", "/v1.0/applications/" + objID + "/removePassword", map[string]any{"keyId": "0b0b0b0b-0000-4000-8000-000000000000"}, 400, "Request_BadRequest", ""},
		{"filter syntax", "GET", "/v1.0/applications" + filter("displayName eq 'x"), nil, 400, "BadRequest",
			"Invalid filter clause: There is an unterminated string literal at position 15 in 'displayName eq 'x'."},
		{"filter property", "GET", "/v1.0/servicePrincipals" + filter("frob eq 'x'"), nil, 400, "BadRequest",
			"Could not find a property named 'frob' on type 'microsoft.graph.servicePrincipal'."},
		{"filter unsupported", "GET", "/v1.0/applications" + filter("passwordCredentials/any(c:c eq 'x')"), nil, 400, "Request_UnsupportedQuery",
			"Unsupported or invalid query filter clause specified for property 'passwordCredentials' of resource 'Application'."},
		{"bad $top", "GET", "/v1.0/users?$top=0", nil, 400, "Request_BadRequest", "Invalid page size specified: '0'. Must be between 1 and 999 inclusive."},
		{"bad skiptoken", "GET", "/v1.0/users?$skiptoken=zzz", nil, 400, "Directory_ExpiredPageToken", ""},
		{"body over 1 MiB", "PATCH", "/v1.0/applications/" + objID, `{"notes":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "Request_EntityTooLarge", ""},
		{"unknown segment", "GET", "/v1.0/frobs", nil, 400, "BadRequest", "Resource not found for the segment 'frobs'."},
		{"unknown action", "GET", "/v1.0/me/ownedObjectz", nil, 400, "BadRequest", "Resource not found for the segment 'ownedObjectz'."},
		{"wrong method", "PUT", "/v1.0/applications", map[string]any{}, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."},
		{"bad member ref", "POST", "/v1.0/groups/" + objID + "/members/$ref", map[string]any{"@odata.id": "javascript:alert(1)"}, 400, "Request_BadRequest", ""},
		{"weak password", "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "w", "mailNickname": "w",
			"userPrincipalName": "w@aksid.local", "passwordProfile": map[string]any{"password": "password"}}, 400, "Request_BadRequest",
			"The specified password does not comply with password complexity requirements. Please provide a different password."},
		{"foreign domain", "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "w", "mailNickname": "w",
			"userPrincipalName": "w@example.com", "passwordProfile": map[string]any{"password": "Passw0rd!"}}, 400, "Request_BadRequest", ""},
		{"principal for nothing", "POST", "/v1.0/servicePrincipals", map[string]any{"appId": "0b0b0b0b-0000-4000-8000-000000000000"}, 400, "Request_BadRequest",
			"The appId '0b0b0b0b-0000-4000-8000-000000000000' of the service principal does not reference a valid application object."},
		{"too many ids", "POST", "/v1.0/directoryObjects/getByIds", map[string]any{"ids": make([]string, 1001)}, 400, "Request_BadRequest", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.call(t, s.admin, c.method, c.path, c.body)
			if r.status != c.status || r.errCode() != c.code || (c.msg != "" && r.errMessage() != c.msg) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			inner, _ := r.m["error"].(map[string]any)["innerError"].(map[string]any)
			if r.errMessage() == "" || inner["request-id"] == "" || inner["date"] == "" || inner["client-request-id"] == "" {
				t.Fatalf("body shape: %s", r.raw)
			}
			for _, leak := range []string{".go:", "sql", "goroutine", "panic", "directory:"} {
				if strings.Contains(strings.ToLower(r.raw), leak) {
					t.Fatalf("body leaks %q: %s", leak, r.raw)
				}
			}
		})
	}
	// The refused PATCH left the application as it was.
	if got := s.must(t, 200, s.admin, "GET", "/v1.0/applications/"+objID, nil); got.m["notes"] != nil || got.str("displayName") != "target" {
		t.Fatalf("refused writes changed the application: %s", got.raw)
	}
}
