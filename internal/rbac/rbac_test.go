package rbac

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
	"github.com/google/uuid"
)

const (
	subID       = "35349980-0f19-46d4-b35c-857c4a1e327e"
	sub         = "/subscriptions/" + subID
	rg1         = sub + "/resourceGroups/rg1"
	rg2         = sub + "/resourceGroups/rg2"
	vnet        = rg1 + "/providers/Microsoft.Network/virtualNetworks/vnet"
	owner       = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	reader      = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	uaa         = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	netContrib  = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	acrPull     = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
	aksReader   = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
	aksAdmin    = "3498e952-d568-435e-9b2c-8d77e338d7f7"
)

func roleID(guid string) string {
	return sub + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
}

type fixture struct {
	*Service
	t   *testing.T
	st  store.Store
	clk *clock.Virtual
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	st, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewVirtual(clock.Wall{}, 0)
	s, err := New(context.Background(), st, clk, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Service: s, t: t, st: st, clk: clk}
}

// assign creates an assignment and fails the test on error.
func (f *fixture) assign(scope, role, principal string) Assignment {
	f.t.Helper()
	a, err := f.CreateAssignment(context.Background(), AssignmentSpec{Name: uuid.NewString(), Scope: scope,
		RoleDefinitionID: roleID(role), PrincipalID: principal, PrincipalType: "User", CreatedBy: "11111111-0000-4000-8000-00000000a11c"})
	if err != nil {
		f.t.Fatalf("assign %s at %s: %v", role, scope, err)
	}
	return a
}

// can reports the decision for principals, failing the test on error.
func (f *fixture) can(principals []string, action, scope string) bool {
	f.t.Helper()
	d, err := f.Authorize(context.Background(), principals, action, scope)
	if err != nil {
		f.t.Fatalf("Authorize(%s, %s): %v", action, scope, err)
	}
	return d.Allowed
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !IsCode(err, code) {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func TestBuiltinRoles(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	all, err := f.ListRoleDefinitions(ctx, sub, RoleDefinitionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, d := range all {
		names[d.RoleName] = d.Name
		if d.Type != BuiltInRole || !slices.Equal(d.AssignableScopes, []string{"/"}) || d.Description == "" || len(d.Permissions) != 1 {
			t.Errorf("malformed built-in %+v", d)
		}
		if d.ID != roleID(d.Name) {
			t.Errorf("ID %s", d.ID)
		}
	}
	for name, guid := range map[string]string{"Owner": owner, "Contributor": contributor, "Reader": reader, "User Access Administrator": uaa,
		"Network Contributor": netContrib, "AcrPull": acrPull, "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
		"Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab", "Virtual Machine Contributor": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
		"AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec", "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
		"Azure Kubernetes Service Cluster Admin Role": "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8", "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
		"Azure Kubernetes Service Contributor Role": "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8", "Azure Kubernetes Service RBAC Admin": aksAdmin,
		"Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", "Azure Kubernetes Service RBAC Reader": aksReader,
		"Azure Kubernetes Service RBAC Writer": "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"} {
		if names[name] != guid {
			t.Errorf("%s = %q, want %s", name, names[name], guid)
		}
	}
	// az looks roles up by name in lower case and needs exactly one back.
	got, err := f.ListRoleDefinitions(ctx, vnet, RoleDefinitionFilter{RoleName: "acrpull"})
	if err != nil || len(got) != 1 || got[0].Name != acrPull || got[0].ID != roleID(acrPull) {
		t.Fatalf("acrpull: %+v %v", got, err)
	}
	if got, _ := f.ListRoleDefinitions(ctx, sub, RoleDefinitionFilter{Type: "customrole"}); len(got) != 0 {
		t.Errorf("custom roles: %+v", got)
	}
	d, err := f.RoleDefinition(ctx, "/", netContrib)
	if err != nil || d.RoleName != "Network Contributor" || d.ID != "/providers/Microsoft.Authorization/roleDefinitions/"+netContrib {
		t.Fatalf("by GUID at root: %+v %v", d, err)
	}
	if _, err := f.RoleDefinition(ctx, sub, roleID(uuid.NewString())); !IsCode(err, CodeRoleDefinitionDoesNotExist) {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := f.RoleDefinition(ctx, sub, sub+"/providers/Microsoft.Authorization/roleAssignments/"+owner); !errors.Is(err, armid.ErrMalformed) {
		t.Errorf("not a role ID: %v", err)
	}
}

func TestCustomRolesAndAssignableScopes(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	guid := uuid.NewString()
	def := RoleDefinition{Name: guid, RoleName: "VNet Reader", Description: "reads vnets",
		Permissions:      []Permission{{Actions: []string{"Microsoft.Network/virtualNetworks/*/read", "Microsoft.Network/virtualNetworks/read"}}},
		AssignableScopes: []string{strings.ToUpper(rg1) + "/"}}
	d, err := f.PutRoleDefinition(ctx, rg1, def)
	if err != nil || d.Type != CustomRole || d.AssignableScopes[0] != "/subscriptions/"+strings.ToUpper(subID)+"/resourceGroups/RG1" || d.CreatedOn.IsZero() {
		t.Fatalf("put: %+v %v", d, err)
	}
	// Visible at, above and below its assignable scope; not beside it.
	for scope, want := range map[string]int{sub: 1, rg1: 1, vnet: 1, rg2: 0} {
		got, err := f.ListRoleDefinitions(ctx, scope, RoleDefinitionFilter{RoleName: "vnet reader", Type: CustomRole})
		if err != nil || len(got) != want {
			t.Errorf("list at %s: %d %v", scope, len(got), err)
		}
	}
	p := uuid.NewString()
	_, err = f.CreateAssignment(ctx, AssignmentSpec{Name: uuid.NewString(), Scope: rg2, RoleDefinitionID: roleID(guid), PrincipalID: p})
	wantCode(t, err, CodeScopeNotAssignable)
	_, err = f.CreateAssignment(ctx, AssignmentSpec{Name: uuid.NewString(), Scope: sub, RoleDefinitionID: roleID(guid), PrincipalID: p})
	wantCode(t, err, CodeScopeNotAssignable)
	a := f.assign(vnet, guid, p)
	if !f.can([]string{p}, "Microsoft.Network/virtualNetworks/subnets/read", vnet+"/subnets/s") || f.can([]string{p}, "Microsoft.Network/virtualNetworks/write", vnet) {
		t.Fatal("custom role decisions")
	}
	// Updating the role changes decisions at once.
	def.Permissions[0].Actions = append(def.Permissions[0].Actions, "Microsoft.Network/virtualNetworks/write")
	if _, err := f.PutRoleDefinition(ctx, rg1, def); err != nil {
		t.Fatal(err)
	}
	if !f.can([]string{p}, "Microsoft.Network/virtualNetworks/write", vnet) {
		t.Fatal("update not seen")
	}
	_, err = f.DeleteRoleDefinition(ctx, rg1, guid)
	wantCode(t, err, CodeRoleDefinitionHasAssignments)
	if _, err := f.DeleteAssignment(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DeleteRoleDefinition(ctx, rg1, roleID(guid)); err != nil {
		t.Fatal(err)
	}
	_, err = f.RoleDefinition(ctx, rg1, guid)
	wantCode(t, err, CodeRoleDefinitionDoesNotExist)

	for _, bad := range []RoleDefinition{
		{Name: "x", RoleName: "a", Permissions: def.Permissions, AssignableScopes: []string{rg1}},
		{Name: uuid.NewString(), RoleName: "acrpull", Permissions: def.Permissions, AssignableScopes: []string{rg1}},
		{Name: uuid.NewString(), RoleName: "b", AssignableScopes: []string{rg1}},
		{Name: uuid.NewString(), RoleName: "c", Permissions: def.Permissions},
		{Name: uuid.NewString(), RoleName: "d", Permissions: def.Permissions, AssignableScopes: []string{"/"}},
		{Name: owner, RoleName: "e", Permissions: def.Permissions, AssignableScopes: []string{rg1}},
	} {
		if _, err := f.PutRoleDefinition(ctx, rg1, bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	_, err = f.DeleteRoleDefinition(ctx, sub, owner)
	wantCode(t, err, CodeBuiltInRoleReadOnly)
	// Role names are unique across custom roles too.
	if _, err := f.PutRoleDefinition(ctx, rg1, RoleDefinition{Name: uuid.NewString(), RoleName: "Mine", Permissions: def.Permissions, AssignableScopes: []string{rg1}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.PutRoleDefinition(ctx, rg2, RoleDefinition{Name: uuid.NewString(), RoleName: "MINE", Permissions: def.Permissions, AssignableScopes: []string{rg2}})
	wantCode(t, err, CodeRoleDefinitionWithSameNameExists)
}
