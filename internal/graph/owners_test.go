package graph_test

import (
	"slices"
	"testing"
)

// TestOwnersAsAzUsesThem follows `az ad app owner add/list/remove`,
// `az ad sp owner list`, `az ad group owner add/list/remove` and
// `az ad signed-in-user list-owned-objects`.
func TestOwnersAsAzUsesThem(t *testing.T) {
	s := start(t)
	adm := s.admin
	ids := func(r reply) []string {
		out := []string{}
		for _, v := range r.values() {
			out = append(out, v["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(v ...string) []string { slices.Sort(v); return v }
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": s.URL + "/v1.0/directoryObjects/" + id}
	}

	// The principal that registers an application is its first owner.
	admSP := s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals"+filter("appId eq '"+s.AdminAppID+"'"), nil).values()
	if len(admSP) != 1 {
		t.Fatalf("admin principal %v", admSP)
	}
	admID := admSP[0]["id"].(string)
	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "owned-app"})
	appObj := app.str("id")
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/applications/"+appObj+"/owners", nil)); !slices.Equal(got, []string{admID}) {
		t.Fatalf("owners after create %v, want the creator %s", got, admID)
	}

	user := s.must(t, 201, adm, "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "Olga",
		"mailNickname": "olga", "userPrincipalName": "olga@aksid.local",
		"passwordProfile": map[string]any{"password": "Secr3t-pass", "forceChangePasswordNextSignIn": false}})
	uid := user.str("id")
	s.must(t, 204, adm, "POST", "/v1.0/applications/"+appObj+"/owners/$ref", ref(uid))
	dup := s.must(t, 400, adm, "POST", "/v1.0/applications/"+appObj+"/owners/$ref", ref(uid))
	if dup.errMessage() != "One or more added object references already exist for the following modified properties: 'owners'." {
		t.Fatalf("duplicate owner %s", dup.raw)
	}
	owners := s.must(t, 200, adm, "GET", "/v1.0/applications/"+appObj+"/owners", nil)
	if got := ids(owners); !slices.Equal(got, sorted(admID, uid)) {
		t.Fatalf("owners %v", got)
	}
	for _, o := range owners.values() {
		if o["id"] == uid && (o["@odata.type"] != "#microsoft.graph.user" || o["userPrincipalName"] != "olga@aksid.local") {
			t.Fatalf("owner rendered %v", o)
		}
	}
	missing := s.must(t, 404, adm, "POST", "/v1.0/applications/"+appObj+"/owners/$ref", ref("0b0b0b0b-0000-4000-8000-000000000000"))
	if missing.errCode() != "Request_ResourceNotFound" {
		t.Fatalf("missing owner %s", missing.raw)
	}
	s.must(t, 404, adm, "GET", "/v1.0/applications/0b0b0b0b-0000-4000-8000-000000000000/owners", nil)
	// An application's owners are not a group's: the path's type counts.
	s.must(t, 404, adm, "GET", "/v1.0/groups/"+appObj+"/owners", nil)

	group := s.must(t, 201, adm, "POST", "/v1.0/groups", map[string]any{"displayName": "owners", "mailNickname": "owners",
		"mailEnabled": false, "securityEnabled": true})
	gid := group.str("id")
	if bad := s.must(t, 400, adm, "POST", "/v1.0/applications/"+appObj+"/owners/$ref", ref(gid)); bad.errCode() != "Request_BadRequest" {
		t.Fatalf("group as owner %s", bad.raw)
	}
	s.must(t, 204, adm, "POST", "/v1.0/groups/"+gid+"/owners/$ref", ref(uid))
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/groups/"+gid+"/owners", nil)); !slices.Equal(got, []string{uid}) {
		t.Fatalf("group owners %v", got)
	}
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/users/"+uid+"/ownedObjects", nil)); !slices.Equal(got, sorted(appObj, gid)) {
		t.Fatalf("ownedObjects %v", got)
	}

	// The service principal's owners are its own, empty until added.
	sp := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.str("appId")})
	spObj := sp.str("id")
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals/"+spObj+"/owners", nil)); len(got) != 0 {
		t.Fatalf("sp owners %v", got)
	}
	s.must(t, 204, adm, "POST", "/v1.0/servicePrincipals/"+spObj+"/owners/$ref", ref(uid))

	// A principal without a write permission may read owners, not change them.
	pw := s.must(t, 200, adm, "POST", "/v1.0/applications/"+appObj+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "x"}})
	plain := s.token(t, app.str("appId"), pw.str("secretText"), "https://graph.microsoft.com/.default")
	s.must(t, 200, plain, "GET", "/v1.0/applications/"+appObj+"/owners", nil)
	if denied := s.must(t, 403, plain, "POST", "/v1.0/groups/"+gid+"/owners/$ref", ref(spObj)); denied.errCode() != "Authorization_RequestDenied" {
		t.Fatalf("plain principal adding an owner %s", denied.raw)
	}
	if me := s.must(t, 400, plain, "GET", "/v1.0/me/ownedObjects", nil); me.errMessage() != "/me request is only valid with delegated authentication flow." {
		t.Fatalf("/me with an app token %s", me.raw)
	}

	// Both ways of removing a reference; a second removal is not found.
	s.must(t, 204, adm, "DELETE", "/v1.0/applications/"+appObj+"/owners/"+uid+"/$ref", nil)
	s.must(t, 404, adm, "DELETE", "/v1.0/applications/"+appObj+"/owners/"+uid+"/$ref", nil)
	s.must(t, 204, adm, "DELETE", "/v1.0/groups/"+gid+"/owners/$ref?$id="+s.URL+"/v1.0/directoryObjects/"+uid, nil)
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/users/"+uid+"/ownedObjects", nil)); !slices.Equal(got, []string{spObj}) {
		t.Fatalf("ownedObjects after removals %v", got)
	}

	// Deleting the owned object ends its ownerships.
	s.must(t, 204, adm, "DELETE", "/v1.0/applications/"+appObj, nil)
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/users/"+uid+"/ownedObjects", nil)); len(got) != 0 {
		t.Fatalf("ownedObjects after the application's deletion %v", got)
	}
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals/"+admID+"/ownedObjects", nil)); slices.Contains(got, appObj) {
		t.Fatalf("creator still owns the deleted application: %v", got)
	}
}
