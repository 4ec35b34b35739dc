package directory

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
)

// TestAdminConsentGrantsWhatTheApplicationAsks: admin consent turns an
// application's requiredResourceAccess into one AllPrincipals grant per
// resource (merged with an earlier grant) and app role assignments to its
// principal, creating the client's principal; a second consent changes
// nothing; a permission the resource does not expose is refused whole.
func TestAdminConsentGrantsWhatTheApplicationAsks(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	if err := d.EnsureTenant(ctx, Tenant{ID: tid, DisplayName: "t", DefaultDomain: "t.local", Domains: []string{"t.local"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.EnsureFirstParty(ctx, tid); err != nil {
		t.Fatal(err)
	}
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	api, err := d.RegisterApplication(ctx, tid, ApplicationSpec{DisplayName: "api", Extra: Extra{
		"api": raw(map[string]any{"oauth2PermissionScopes": []any{map[string]any{"id": "33333333-3333-4333-8333-333333333333",
			"value": "tasks.read", "type": "User", "isEnabled": true}}}),
		"appRoles": raw([]any{map[string]any{"id": "44444444-4444-4444-8444-444444444444", "value": "Tasks.Sync",
			"allowedMemberTypes": []string{"Application"}, "isEnabled": true}}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	access := func(resource string, entries ...[2]string) map[string]any {
		var ra []any
		for _, e := range entries {
			ra = append(ra, map[string]any{"id": e[0], "type": e[1]})
		}
		return map[string]any{"resourceAppId": resource, "resourceAccess": ra}
	}
	client, err := d.RegisterApplication(ctx, tid, ApplicationSpec{DisplayName: "client", Extra: Extra{"requiredResourceAccess": raw([]any{
		access(MicrosoftGraphApp, [2]string{"e1fe6dd8-ba31-4d61-89e7-88639da4683d", "Scope"}, [2]string{"7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Role"}),
		access(api.AppID, [2]string{"33333333-3333-4333-8333-333333333333", "Scope"}, [2]string{"44444444-4444-4444-8444-444444444444", "Role"}),
	})}})
	if err != nil {
		t.Fatal(err)
	}
	// An earlier grant on Graph (az ad app permission grant) is kept and merged.
	clientSP, err := d.EnsureServicePrincipal(ctx, tid, client.AppID)
	if err != nil {
		t.Fatal(err)
	}
	graphSP, _ := d.ServicePrincipal(ctx, tid, MicrosoftGraphApp)
	if _, err := d.CreatePermissionGrant(ctx, tid, PermissionGrant{ClientID: clientSP.ObjectID, ResourceID: graphSP.ObjectID,
		ConsentType: ConsentAllPrincipals, Scope: "openid"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := d.AdminConsent(ctx, tid, client.AppID); err != nil {
			t.Fatal(err)
		}
	}
	grants, _ := d.PermissionGrants(ctx, tid)
	scopes := map[string]string{}
	for _, g := range grants {
		scopes[g.ResourceID] = g.Scope
	}
	apiSP, _ := d.ServicePrincipal(ctx, tid, api.AppID) // made by the consent
	if len(grants) != 2 || scopes[graphSP.ObjectID] != "openid User.Read" || scopes[apiSP.ObjectID] != "tasks.read" {
		t.Fatalf("grants after consent %+v", grants)
	}
	held, _ := d.AppRoleAssignments(ctx, tid, "principal", clientSP.ObjectID)
	var roles []string
	for _, a := range held {
		roles = append(roles, a.AppRoleID)
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"44444444-4444-4444-8444-444444444444", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"}) {
		t.Fatalf("roles after consent %v", roles)
	}
	sp, _ := d.ServicePrincipal(ctx, tid, client.AppID)
	if got := api.RoleValues(sp.HeldRoles[apiSP.ObjectID]); !slices.Equal(got, []string{"Tasks.Sync"}) {
		t.Fatalf("held roles on the principal's record %v", sp.HeldRoles)
	}

	bad, err := d.RegisterApplication(ctx, tid, ApplicationSpec{DisplayName: "bad", Extra: Extra{"requiredResourceAccess": raw([]any{
		access(api.AppID, [2]string{"33333333-3333-4333-8333-333333333333", "Scope"}, [2]string{"55555555-5555-4555-8555-555555555555", "Scope"}),
	})}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AdminConsent(ctx, tid, bad.AppID); err == nil {
		t.Fatal("consent to a permission the API does not expose")
	}
	if _, err := d.ServicePrincipal(ctx, tid, bad.AppID); err == nil {
		t.Fatal("a refused consent left a service principal behind")
	}
}
