package rbac

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

func TestAssignmentValidation(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	p := uuid.NewString()
	a := f.assign(rg1, acrPull, p)
	if a.ID != rg1+"/providers/Microsoft.Authorization/roleAssignments/"+a.Name() || a.Scope != rg1 || a.PrincipalType != "User" || a.CreatedOn.IsZero() {
		t.Fatalf("created %+v", a)
	}
	spec := AssignmentSpec{Name: uuid.NewString(), Scope: strings.ToUpper(rg1), RoleDefinitionID: roleID(acrPull), PrincipalID: p}
	_, err := f.CreateAssignment(ctx, spec)
	wantCode(t, err, CodeRoleAssignmentExists)
	if err.Error() != "RoleAssignmentExists: The role assignment already exists." {
		t.Errorf("message %q", err)
	}
	// The same PUT again is idempotent; a changed one is refused.
	again, err := f.CreateAssignment(ctx, AssignmentSpec{Name: a.Name(), Scope: rg1, RoleDefinitionID: a.RoleDefinitionID, PrincipalID: p, PrincipalType: "user"})
	if err != nil || again != a {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	_, err = f.CreateAssignment(ctx, AssignmentSpec{Name: a.Name(), Scope: rg1, RoleDefinitionID: a.RoleDefinitionID, PrincipalID: uuid.NewString()})
	wantCode(t, err, CodeRoleAssignmentUpdateNotPermitted)

	for _, tc := range []struct {
		spec AssignmentSpec
		code string
	}{
		{AssignmentSpec{Name: "not-a-guid", Scope: rg1, RoleDefinitionID: roleID(reader), PrincipalID: p}, CodeInvalidRoleAssignmentID},
		{AssignmentSpec{Name: uuid.NewString(), Scope: rg1, RoleDefinitionID: roleID(reader), PrincipalID: "appid"}, CodeInvalidPrincipalID},
		{AssignmentSpec{Name: uuid.NewString(), Scope: rg1, RoleDefinitionID: roleID(reader), PrincipalID: p, PrincipalType: "Robot"}, CodeInvalidPrincipalType},
		{AssignmentSpec{Name: uuid.NewString(), Scope: rg1, RoleDefinitionID: roleID(uuid.NewString()), PrincipalID: p}, CodeRoleDefinitionDoesNotExist},
	} {
		_, err := f.CreateAssignment(ctx, tc.spec)
		wantCode(t, err, tc.code)
	}
	if _, err := f.CreateAssignment(ctx, AssignmentSpec{Name: uuid.NewString(), Scope: "rg1", RoleDefinitionID: roleID(reader), PrincipalID: p}); !errors.Is(err, armid.ErrMalformed) {
		t.Errorf("bad scope: %v", err)
	}
	if _, err := f.CreateAssignment(ctx, AssignmentSpec{Name: uuid.NewString(), Scope: rg1, RoleDefinitionID: rg1, PrincipalID: p}); !errors.Is(err, armid.ErrMalformed) {
		t.Errorf("bad role ID: %v", err)
	}
	// Get and delete by full ID; the scope is part of the identity.
	if got, err := f.Assignment(ctx, strings.ToUpper(a.ID)); err != nil || got != a {
		t.Fatalf("get: %+v %v", got, err)
	}
	_, err = f.Assignment(ctx, rg2+"/providers/Microsoft.Authorization/roleAssignments/"+a.Name())
	wantCode(t, err, CodeRoleAssignmentNotFound)
	if _, err := f.DeleteAssignment(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.DeleteAssignment(ctx, a.ID)
	wantCode(t, err, CodeRoleAssignmentNotFound)
	// Deleting freed the triple.
	f.assign(rg1, acrPull, p)
}

func TestListFilters(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	user, group := uuid.NewString(), uuid.NewString()
	atSub := f.assign(sub, reader, user)
	atRG := f.assign(rg1, contributor, group)
	atVnet := f.assign(vnet, netContrib, user)
	atRG2 := f.assign(rg2, reader, group)
	ids := func(as []Assignment) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name())
		}
		slices.Sort(out)
		return out
	}
	want := func(as ...Assignment) []string { return ids(as) }
	for _, tc := range []struct {
		scope, filter string
		groups        []string
		want          []string
	}{
		{rg1, "", nil, want(atSub, atRG, atVnet)},
		{rg1, "atScope()", nil, want(atSub, atRG)},
		{sub, "", nil, want(atSub, atRG, atVnet, atRG2)},
		{sub, "atScope()", nil, want(atSub)},
		{"/", "", nil, want(atSub, atRG, atVnet, atRG2)},
		{vnet, "", nil, want(atSub, atRG, atVnet)},
		{rg1, "principalId eq '" + strings.ToUpper(user) + "'", nil, want(atSub, atVnet)},
		{rg1, "atScope() and principalId eq '" + user + "'", nil, want(atSub)},
		{rg1, "assignedTo('" + user + "')", nil, want(atSub, atVnet)},
		{rg1, "assignedTo('" + user + "')", []string{group}, want(atSub, atRG, atVnet)},
	} {
		flt, err := ParseAssignmentFilter(tc.filter)
		if err != nil {
			t.Fatalf("%q: %v", tc.filter, err)
		}
		flt.Groups = tc.groups
		got, err := f.ListAssignments(ctx, tc.scope, flt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("list at %s %q: got %d, want %d", tc.scope, tc.filter, len(got), len(tc.want))
		}
	}
}

func TestParseFilters(t *testing.T) {
	af, err := ParseAssignmentFilter("atScope() AND assignedTo('a''b')")
	if err != nil || !af.AtScope || af.AssignedTo != "a'b" {
		t.Errorf("%+v %v", af, err)
	}
	rf, err := ParseRoleDefinitionFilter("roleName eq 'Rock and Roll' and type eq 'BuiltInRole'")
	if err != nil || rf.RoleName != "Rock and Roll" || rf.Type != "BuiltInRole" {
		t.Errorf("%+v %v", rf, err)
	}
	if rf, err := ParseRoleDefinitionFilter(""); err != nil || rf != (RoleDefinitionFilter{}) {
		t.Errorf("empty: %+v %v", rf, err)
	}
	for _, bad := range []string{"atScope", "principalId eq x", "principalId eq 'x", "roleName eq 'a' and", "foo eq 'x'", "assignedTo(x)", " and atScope()"} {
		_, err1 := ParseAssignmentFilter(bad)
		_, err2 := ParseRoleDefinitionFilter(bad)
		if !IsCode(err1, CodeInvalidFilter) || !IsCode(err2, CodeInvalidFilter) {
			t.Errorf("%q accepted: %v %v", bad, err1, err2)
		}
	}
}

// TestBootstrapShapedData reads assignments written straight to the store
// (bootstrap's shape, with and without a uniqueness record): a principal
// already cached sees them after Refresh.
func TestBootstrapShapedData(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	viaInsert, legacy := uuid.NewString(), uuid.NewString()
	created := f.clk.Now().UTC().Add(-time.Hour)
	// A decision caches that viaInsert holds nothing.
	if f.can([]string{viaInsert}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) {
		t.Fatal("granted before any assignment")
	}
	err := f.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		name := "0e9a9a59-0fa5-4d0e-9a29-6a3c1e000001"
		if err := InsertAssignment(tx, Assignment{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/" + name, Scope: sub,
			RoleDefinitionID: roleID(owner), PrincipalID: viaInsert, PrincipalType: "ServicePrincipal", CreatedOn: created}); err != nil {
			return err
		}
		name = "0e9a9a59-0fa5-4d0e-9a29-6a3c1e000002"
		return tx.Put(KindAssignment, name, []byte(`{"id":"`+sub+`/providers/Microsoft.Authorization/roleAssignments/`+name+
			`","scope":"`+sub+`","roleDefinitionId":"`+roleID(owner)+`","principalId":"`+legacy+`","principalType":"User","createdOn":"2020-01-01T00:00:00Z"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.can([]string{viaInsert}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) {
		t.Fatal("a write by another process was seen before Refresh, without FollowOtherWriters")
	}
	if err := f.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if !f.can([]string{viaInsert}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) || !f.can([]string{legacy}, "x/y/write", vnet) {
		t.Fatal("bootstrap assignments do not grant")
	}
	for _, p := range []string{viaInsert, legacy} {
		_, err := f.CreateAssignment(ctx, AssignmentSpec{Name: uuid.NewString(), Scope: sub, RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/" + owner, PrincipalID: p})
		wantCode(t, err, CodeRoleAssignmentExists)
	}
	got, err := f.ListAssignments(ctx, rg1, AssignmentFilter{PrincipalID: legacy})
	if err != nil || len(got) != 1 || !got[0].CreatedOn.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("legacy list: %+v %v", got, err)
	}
}
