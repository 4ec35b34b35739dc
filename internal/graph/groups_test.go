package graph_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/bootstrap"
)

// TestGroupsNestAsAzUsesThem follows `az ad user create`, `az ad group
// create`, `group member add/list/check/remove` and `get-member-groups`.
func TestGroupsNestAsAzUsesThem(t *testing.T) {
	s := start(t)
	adm := s.admin
	user := s.must(t, 201, adm, "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "Dana",
		"mailNickname": "dana", "userPrincipalName": "dana@aksid.local",
		"passwordProfile": map[string]any{"password": "Secr3t-pass", "forceChangePasswordNextSignIn": false}})
	uid := user.str("id")
	if user.str("userPrincipalName") != "dana@aksid.local" || user.m["passwordProfile"] != nil {
		t.Fatalf("user %s", user.raw)
	}
	if s.must(t, 200, adm, "GET", "/v1.0/users/dana@aksid.local", nil).str("id") != uid {
		t.Fatal("user by UPN")
	}
	if v := s.must(t, 200, adm, "GET", "/v1.0/users"+filter("userPrincipalName eq 'DANA@aksid.local'"), nil).values(); len(v) != 1 {
		t.Fatalf("UPN filter found %d", len(v))
	}
	app := s.must(t, 201, adm, "POST", "/v1.0/applications", map[string]any{"displayName": "grp-app"})
	sp := s.must(t, 201, adm, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.str("appId")})

	mk := func(name string) string {
		// az: the idempotency lookup, then the create body it sends.
		s.must(t, 200, adm, "GET", "/v1.0/groups"+filter("displayName eq '"+name+"' and mailNickname eq '"+name+"'"), nil)
		g := s.must(t, 201, adm, "POST", "/v1.0/groups", map[string]any{"displayName": name, "mailNickname": name,
			"mailEnabled": false, "securityEnabled": true})
		if g.m["securityEnabled"] != true || g.str("securityIdentifier") == "" {
			t.Fatalf("group %s", g.raw)
		}
		return g.str("id")
	}
	inner, outer := mk("inner"), mk("outer")
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": s.URL + "/v1.0/directoryObjects/" + id}
	}
	s.must(t, 204, adm, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref(uid))
	s.must(t, 204, adm, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref(sp.str("id")))
	s.must(t, 204, adm, "POST", "/v1.0/groups/"+outer+"/members/$ref", ref(inner))
	// A cycle is stored and walked once.
	s.must(t, 204, adm, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref(outer))
	dup := s.must(t, 400, adm, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref(uid))
	if dup.errMessage() != "One or more added object references already exist for the following modified properties: 'members'." {
		t.Fatalf("duplicate member %s", dup.raw)
	}
	missing := s.must(t, 404, adm, "POST", "/v1.0/groups/"+inner+"/members/$ref", ref("0b0b0b0b-0000-4000-8000-000000000000"))
	if missing.errMessage() != "Resource '0b0b0b0b-0000-4000-8000-000000000000' does not exist or one of its queried reference-property objects are not present." {
		t.Fatalf("missing member %s", missing.raw)
	}

	members := s.must(t, 200, adm, "GET", "/v1.0/groups/"+inner+"/members", nil).values()
	types := []string{}
	for _, m := range members {
		types = append(types, m["@odata.type"].(string))
	}
	slices.Sort(types)
	if !slices.Equal(types, []string{"#microsoft.graph.group", "#microsoft.graph.servicePrincipal", "#microsoft.graph.user"}) {
		t.Fatalf("member types %v", types)
	}
	ids := func(r reply) []string {
		var out []string
		for _, v := range r.values() {
			out = append(out, v["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	both := []string{inner, outer}
	slices.Sort(both)
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/users/"+uid+"/memberOf", nil)); !slices.Equal(got, []string{inner}) {
		t.Fatalf("memberOf %v", got)
	}
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/users/"+uid+"/transitiveMemberOf", nil)); !slices.Equal(got, both) {
		t.Fatalf("transitiveMemberOf %v", got)
	}
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals/"+sp.str("id")+"/transitiveMemberOf", nil)); !slices.Equal(got, both) {
		t.Fatalf("principal transitiveMemberOf %v", got)
	}
	mg := s.must(t, 200, adm, "POST", "/v1.0/users/dana@aksid.local/getMemberGroups", map[string]any{"securityEnabledOnly": false})
	var groups []string
	for _, v := range mg.m["value"].([]any) {
		groups = append(groups, v.(string))
	}
	slices.Sort(groups)
	if !slices.Equal(groups, both) {
		t.Fatalf("getMemberGroups %s", mg.raw)
	}
	check := s.must(t, 200, adm, "POST", "/v1.0/directoryObjects/"+uid+"/checkMemberGroups", map[string]any{"groupIds": []string{outer, "0b0b0b0b-0000-4000-8000-000000000000"}})
	if v := check.m["value"].([]any); len(v) != 1 || v[0] != outer {
		t.Fatalf("checkMemberGroups %s", check.raw)
	}
	// The bootstrap admin principal holds Global Administrator.
	roles := s.must(t, 200, adm, "POST", "/v1.0/servicePrincipals/"+s.adminSP(t)+"/getMemberObjects", map[string]any{"securityEnabledOnly": false})
	if len(roles.m["value"].([]any)) != 1 {
		t.Fatalf("admin member objects %s", roles.raw)
	}

	byIDs := s.must(t, 200, adm, "POST", "/v1.0/directoryObjects/getByIds", map[string]any{
		"ids": []string{uid, sp.str("id"), inner, "0b0b0b0b-0000-4000-8000-000000000000"}, "types": []string{"user", "group", "servicePrincipal", "directoryObjectPartnerReference"}})
	if v := byIDs.values(); len(v) != 3 || v[0]["@odata.type"] != "#microsoft.graph.user" || v[1]["@odata.type"] != "#microsoft.graph.servicePrincipal" {
		t.Fatalf("getByIds %s", byIDs.raw)
	}

	s.must(t, 204, adm, "DELETE", "/v1.0/groups/"+inner+"/members/"+uid+"/$ref", nil)
	s.must(t, 404, adm, "DELETE", "/v1.0/groups/"+inner+"/members/"+uid+"/$ref", nil)
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/users/"+uid+"/transitiveMemberOf", nil)); len(got) != 0 {
		t.Fatalf("after removal %v", got)
	}
	s.must(t, 204, adm, "DELETE", "/v1.0/groups/"+outer, nil)
	if got := ids(s.must(t, 200, adm, "GET", "/v1.0/servicePrincipals/"+sp.str("id")+"/transitiveMemberOf", nil)); !slices.Equal(got, []string{inner}) {
		t.Fatalf("after deleting outer %v", got)
	}
	s.must(t, 204, adm, "DELETE", "/v1.0/users/"+uid, nil)
	s.must(t, 404, adm, "GET", "/v1.0/users/"+uid, nil)
}

// adminSP finds the bootstrap admin's principal object ID.
func (s *server) adminSP(t *testing.T) string {
	r := s.must(t, 200, s.admin, "GET", "/v1.0/servicePrincipals"+filter("appId eq '"+s.AdminAppID+"'"), nil)
	v := r.values()
	if len(v) != 1 {
		t.Fatalf("admin principal %s", r.raw)
	}
	return v[0]["id"].(string)
}

func TestOrganizationAndMe(t *testing.T) {
	s := start(t)
	org := s.must(t, 200, s.admin, "GET", "/v1.0/organization", nil).values()
	if len(org) != 1 || org[0]["id"] != s.TenantID {
		t.Fatalf("organization %v", org)
	}
	me := s.must(t, 400, s.admin, "GET", "/v1.0/me", nil)
	if me.errMessage() != "/me request is only valid with delegated authentication flow." {
		t.Fatalf("/me with an app token: %s", me.raw)
	}
}

func TestRevokeSignInSessions(t *testing.T) {
	s := start(t)
	r := s.must(t, 200, s.admin, "POST", "/v1.0/users/"+bootstrap.AdminUPN+"/revokeSignInSessions", nil)
	if r.m["value"] != true || !strings.HasSuffix(r.str("@odata.context"), "$metadata#Edm.Boolean") {
		t.Fatalf("revoke: %s", r.raw)
	}
	if r := s.must(t, 404, s.admin, "POST", "/v1.0/users/nobody@aksid.local/revokeSignInSessions", nil); r.errCode() != "Request_ResourceNotFound" {
		t.Fatalf("unknown user: %s", r.raw)
	}
}
