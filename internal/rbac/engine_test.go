package rbac

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

func TestInheritanceAndWildcards(t *testing.T) {
	f := newFixture(t, Options{})
	alice, bob := uuid.NewString(), uuid.NewString()
	f.assign(sub, reader, alice)
	f.assign(rg1, netContrib, bob)
	for _, tc := range []struct {
		who           string
		action, scope string
		want          bool
	}{
		{alice, "Microsoft.Network/virtualNetworks/read", vnet, true}, // */read, inherited from the subscription
		{alice, "Microsoft.Resources/subscriptions/resourceGroups/read", rg2, true},
		{alice, "Microsoft.Network/virtualNetworks/write", vnet, false},
		{alice, "Microsoft.Resources/subscriptions/resourceGroups/read", "/", false},                    // nothing inherits upwards
		{bob, "Microsoft.Network/virtualNetworks/subnets/join/action", vnet + "/subnets/default", true}, // Microsoft.Network/*
		{bob, "Microsoft.Authorization/roleAssignments/read", rg1, true},                                // Microsoft.Authorization/*/read
		{bob, "Microsoft.Authorization/roleAssignments/write", rg1, false},
		{bob, "Microsoft.Network/virtualNetworks/write", rg2 + "/providers/Microsoft.Network/virtualNetworks/v", false},
		{bob, "Microsoft.Network/virtualNetworks/write", sub + "/resourceGroups/rg10", false}, // a sibling that shares a prefix
		{bob, "Microsoft.Compute/virtualMachines/write", vnet, false},
		// Case-insensitive in action, scope and principal.
		{strings.ToUpper(bob), "MICROSOFT.NETWORK/VIRTUALNETWORKS/WRITE", strings.ToUpper(vnet), true},
		{bob, "microsoft.network/virtualnetworks/write", "/SUBSCRIPTIONS/" + subID + "//resourcegroups/RG1/", true},
	} {
		if got := f.can([]string{tc.who}, tc.action, tc.scope); got != tc.want {
			t.Errorf("%s %s at %s = %v", tc.who[:4], tc.action, tc.scope, got)
		}
	}
	if _, err := f.Authorize(context.Background(), []string{alice}, "x/read", "subscriptions/x"); !errors.Is(err, armid.ErrMalformed) {
		t.Errorf("malformed scope: %v", err)
	}
}

func TestNotActionsSubtractWithinARoleOnly(t *testing.T) {
	f := newFixture(t, Options{})
	p := uuid.NewString()
	f.assign(sub, contributor, p)
	if !f.can([]string{p}, "Microsoft.Compute/virtualMachines/write", rg1) || !f.can([]string{p}, "Microsoft.Authorization/roleAssignments/read", rg1) {
		t.Fatal("Contributor's * must grant")
	}
	if f.can([]string{p}, "Microsoft.Authorization/roleAssignments/write", rg1) || f.can([]string{p}, "Microsoft.Authorization/elevateAccess/Action", "/subscriptions/"+subID) {
		t.Fatal("Contributor's notActions must subtract")
	}
	// Another role granting the action wins: NotActions are not denies.
	f.assign(rg1, uaa, p)
	if !f.can([]string{p}, "Microsoft.Authorization/roleAssignments/write", vnet) {
		t.Fatal("User Access Administrator must grant roleAssignments/write")
	}
	if f.can([]string{p}, "Microsoft.Authorization/roleAssignments/write", rg2) {
		t.Fatal("granted outside the UAA scope")
	}
}

func TestGroupsAndDataActions(t *testing.T) {
	f := newFixture(t, Options{})
	user, group, other := uuid.NewString(), uuid.NewString(), uuid.NewString()
	cluster := rg1 + "/providers/Microsoft.ContainerService/managedClusters/aks"
	f.assign(cluster, aksReader, group)
	f.assign(rg1, aksAdmin, other)
	d, err := f.AuthorizeData(context.Background(), []string{user, group}, "Microsoft.ContainerService/managedClusters/pods/read", cluster+"/namespaces/default")
	if err != nil || !d.Allowed || d.Role != aksReader {
		t.Fatalf("group grant: %+v %v", d, err)
	}
	if f.can([]string{user, group}, "Microsoft.ContainerService/managedClusters/pods/read", cluster) {
		t.Fatal("a data action must not pass as a control-plane action")
	}
	for action, want := range map[string]bool{
		"Microsoft.ContainerService/managedClusters/pods/read":        true,
		"Microsoft.ContainerService/managedClusters/secrets/read":     false,
		"Microsoft.ContainerService/managedClusters/namespaces/write": false,
	} {
		if d, _ := f.AuthorizeData(context.Background(), []string{user, group}, action, cluster); d.Allowed != want {
			t.Errorf("reader %s = %v", action, d.Allowed)
		}
	}
	for action, want := range map[string]bool{ // Microsoft.ContainerService/managedClusters/* minus notDataActions
		"Microsoft.ContainerService/managedClusters/secrets/read":     true,
		"Microsoft.ContainerService/managedClusters/namespaces/write": false,
	} {
		if d, _ := f.AuthorizeData(context.Background(), []string{other}, action, cluster); d.Allowed != want {
			t.Errorf("admin %s = %v", action, d.Allowed)
		}
	}
	if f.can([]string{user}, "Microsoft.Authorization/roleAssignments/read", cluster) {
		t.Fatal("the user alone has no assignment")
	}
}

func TestPropagationDelay(t *testing.T) {
	f := newFixture(t, Options{Propagation: time.Hour})
	p := uuid.NewString()
	a := f.assign(sub, owner, p)
	if f.can([]string{p}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) {
		t.Fatal("counted before propagating")
	}
	f.clk.SetOffset(59 * time.Minute)
	if f.can([]string{p}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) {
		t.Fatal("counted after 59 minutes")
	}
	f.clk.SetOffset(time.Hour + time.Second)
	if !f.can([]string{p}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) {
		t.Fatal("not counted after an hour")
	}
	// Deleting revokes at once.
	if _, err := f.DeleteAssignment(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	if f.can([]string{p}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) {
		t.Fatal("still allowed after delete")
	}
}

func TestDenied(t *testing.T) {
	err := Denied("admin@aksid.local", "5c0f8a64-0000-0000-0000-000000000000", "Microsoft.Resources/subscriptions/resourcegroups/write", rg1)
	want := "The client 'admin@aksid.local' with object id '5c0f8a64-0000-0000-0000-000000000000' does not have authorization to perform action " +
		"'Microsoft.Resources/subscriptions/resourcegroups/write' over scope '" + rg1 + "' or the scope is invalid. If access was recently granted, please refresh your credentials."
	if err.Code != "AuthorizationFailed" || err.Message != want {
		t.Errorf("got %q", err.Message)
	}
}

// TestAuthorizeAllocations keeps decisions cheap: parsing the scope and
// folding case are the only allocations allowed.
func TestAuthorizeAllocations(t *testing.T) {
	f := newFixture(t, Options{})
	user, group := uuid.NewString(), uuid.NewString()
	for range 20 {
		f.assign(sub+"/resourceGroups/"+uuid.NewString(), reader, user)
	}
	f.assign(rg1, netContrib, group)
	ids := []string{user, group}
	scope := vnet + "/subnets/default"
	allocs := testing.AllocsPerRun(1000, func() {
		if d, _ := f.Authorize(context.Background(), ids, "Microsoft.Network/virtualNetworks/subnets/join/action", scope); !d.Allowed {
			t.Fatal("denied")
		}
	})
	if allocs > 4 {
		t.Errorf("%.0f allocations per decision", allocs)
	}
	t.Logf("%.0f allocations per decision", allocs)
}

func TestBootstrapGrantsDoNotWaitForPropagation(t *testing.T) {
	f := newFixture(t, Options{Propagation: time.Hour})
	p := uuid.NewString()
	err := f.st.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		return InsertAssignment(tx, Assignment{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString(),
			Scope: sub, RoleDefinitionID: roleID(owner), PrincipalID: p, PrincipalType: "ServicePrincipal", CreatedOn: f.clk.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !f.can([]string{p}, "Microsoft.Resources/subscriptions/resourceGroups/write", rg1) {
		t.Fatal("a grant made by no caller (bootstrap) waited for propagation")
	}
}
