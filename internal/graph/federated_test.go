package graph_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestFederatedIdentityCredentials(t *testing.T) {
	s := start(t)
	app := s.must(t, 201, s.admin, "POST", "/v1.0/applications", map[string]any{"displayName": "wl-app"})
	id, appID := app.str("id"), app.str("appId")
	base := "/v1.0/applications/" + id + "/federatedIdentityCredentials"
	issuer := "https://westus2.oic.prod-aks.azure.com/" + s.TenantID + "/1b2c3d4e-0000-4000-8000-000000000001/"

	// Create, with Graph's default audience and shape.
	c := s.must(t, 201, s.admin, "POST", base, map[string]any{"name": "kube", "issuer": issuer,
		"subject": "system:serviceaccount:default:wl", "description": "cluster"})
	aud, _ := c.m["audiences"].([]any)
	if c.str("id") == "" || c.str("name") != "kube" || c.str("issuer") != issuer || len(aud) != 1 || aud[0] != "api://AzureADTokenExchange" ||
		c.str("description") != "cluster" || !strings.Contains(c.str("@odata.context"), "federatedIdentityCredentials/$entity") ||
		!strings.HasSuffix(c.header.Get("Location"), base+"/"+c.str("id")) {
		t.Fatalf("created %s", c.raw)
	}
	ficID := c.str("id")

	// Read by object ID (list and item, by id or name) and by appId.
	if l := s.must(t, 200, s.admin, "GET", base, nil).values(); len(l) != 1 || l[0]["id"] != ficID {
		t.Fatalf("list %v", l)
	}
	s.must(t, 200, s.admin, "GET", base+"/"+ficID, nil)
	if r := s.must(t, 200, s.admin, "GET", base+"/kube", nil); r.str("id") != ficID {
		t.Fatalf("by name %s", r.raw)
	}
	byAppID := "/v1.0/applications(appId='" + appID + "')/federatedIdentityCredentials"
	if l := s.must(t, 200, s.admin, "GET", byAppID, nil).values(); len(l) != 1 {
		t.Fatalf("by appId %v", l)
	}

	// Update; the name is immutable.
	s.must(t, 204, s.admin, "PATCH", base+"/"+ficID, map[string]any{"subject": "system:serviceaccount:apps:wl"})
	if r := s.must(t, 200, s.admin, "GET", base+"/"+ficID, nil); r.str("subject") != "system:serviceaccount:apps:wl" || r.str("issuer") != issuer {
		t.Fatalf("after patch %s", r.raw)
	}
	if r := s.call(t, s.admin, "PATCH", base+"/"+ficID, map[string]any{"name": "renamed"}); r.status != 400 || r.errCode() != "Request_BadRequest" {
		t.Fatalf("rename: %d %s", r.status, r.raw)
	}

	// Validation with Graph's body; nothing half-written.
	for _, bad := range []struct {
		name string
		body any
		want string
	}{
		{"duplicate name", map[string]any{"name": "KUBE", "issuer": issuer, "subject": "x"}, "already exists"},
		{"no issuer", map[string]any{"name": "a", "subject": "x"}, "'issuer' is required"},
		{"no subject", map[string]any{"name": "a", "issuer": issuer}, "'subject' is required"},
		{"no name", map[string]any{"issuer": issuer, "subject": "x"}, "'name' is required"},
		{"http issuer", map[string]any{"name": "a", "issuer": "http://example.test", "subject": "x"}, "'issuer'"},
		{"two audiences", map[string]any{"name": "a", "issuer": issuer, "subject": "x", "audiences": []string{"a", "b"}}, "'audiences'"},
		{"empty audiences", map[string]any{"name": "a", "issuer": issuer, "subject": "x", "audiences": []string{}}, "'audiences'"},
		{"unknown property", map[string]any{"name": "a", "issuer": issuer, "subject": "x", "colour": "red"}, "does not exist"},
		{"wrong type", map[string]any{"name": "a", "issuer": issuer, "subject": 7}, "'subject'"},
		{"not JSON", "{", "Unable to read JSON"},
	} {
		r := s.call(t, s.admin, "POST", base, bad.body)
		if r.status != 400 || r.errCode() != "Request_BadRequest" || !strings.Contains(r.errMessage(), bad.want) {
			t.Fatalf("%s: %d %s", bad.name, r.status, r.raw)
		}
	}
	if l := s.must(t, 200, s.admin, "GET", base, nil).values(); len(l) != 1 {
		t.Fatalf("refusals wrote something: %v", l)
	}

	// At most 20 per application.
	for i := 1; i < 20; i++ {
		s.must(t, 201, s.admin, "POST", byAppID, map[string]any{"name": fmt.Sprintf("n%d", i), "issuer": issuer, "subject": fmt.Sprint(i)})
	}
	if r := s.call(t, s.admin, "POST", base, map[string]any{"name": "n21", "issuer": issuer, "subject": "21"}); r.status != 400 || !strings.Contains(r.errMessage(), "20") {
		t.Fatalf("21st: %d %s", r.status, r.raw)
	}

	// Unknown credential or application: Graph's 404.
	for _, p := range []string{base + "/00000000-0000-4000-8000-000000000000", "/v1.0/applications/0b0b0b0b-0000-4000-8000-000000000000/federatedIdentityCredentials"} {
		if r := s.call(t, s.admin, "GET", p, nil); r.status != 404 || r.errCode() != "Request_ResourceNotFound" {
			t.Fatalf("GET %s: %d %s", p, r.status, r.raw)
		}
	}

	// A principal without a role reads but does not write.
	plainApp := s.must(t, 201, s.admin, "POST", "/v1.0/applications", map[string]any{"displayName": "plain"})
	s.must(t, 201, s.admin, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": plainApp.str("appId")})
	secret := s.must(t, 200, s.admin, "POST", "/v1.0/applications/"+plainApp.str("id")+"/addPassword", map[string]any{}).str("secretText")
	plain := s.token(t, plainApp.str("appId"), secret, "https://graph.microsoft.com/.default")
	s.must(t, 200, plain, "GET", base, nil)
	for _, w := range []struct{ method, path string }{{"POST", base}, {"PATCH", base + "/" + ficID}, {"DELETE", base + "/" + ficID}, {"DELETE", byAppID + "/" + ficID}} {
		if r := s.call(t, plain, w.method, w.path, map[string]any{"name": "z", "issuer": issuer, "subject": "z"}); r.status != 403 {
			t.Fatalf("%s %s as plain: %d %s", w.method, w.path, r.status, r.raw)
		}
	}

	// Delete (by appId path too); a second delete is 404.
	s.must(t, 204, s.admin, "DELETE", base+"/"+ficID, nil)
	s.must(t, 204, s.admin, "DELETE", byAppID+"/n1", nil)
	if r := s.call(t, s.admin, "DELETE", base+"/"+ficID, nil); r.status != 404 {
		t.Fatalf("second delete: %d %s", r.status, r.raw)
	}
	if l := s.must(t, 200, s.admin, "GET", base, nil).values(); len(l) != 18 {
		t.Fatalf("after deletes: %d left", len(l))
	}
}
