package resources_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/hosts"
	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/netres"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store/sqlite"
	"github.com/google/uuid"
)

const (
	sub         = bootstrap.SubscriptionID
	tenant      = bootstrap.TenantID
	readerRole  = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c"
)

// world is every owner of what a resource group holds, wired as serve does.
type world struct {
	dir      *directory.Directory
	rb       *rbac.Service
	res      *resources.Service // with the owners
	msi      *msi.Service
	net      *netres.Service
	clusters *aks.Service
	hosts    *hosts.Service
}

// grants gives the cluster identity Contributor, as the app's adapter does.
type grants struct{ rb *rbac.Service }

func (g grants) GrantContributor(ctx context.Context, scope, principalID string) error {
	_, err := g.rb.CreateAssignment(ctx, rbac.AssignmentSpec{Name: uuid.NewString(), Scope: scope, PrincipalID: principalID,
		RoleDefinitionID: "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + contributor, PrincipalType: "ServicePrincipal"})
	return err
}

func (g grants) Allowed(ctx context.Context, principalIDs []string, action, scope string) (bool, error) {
	d, err := g.rb.Authorize(ctx, principalIDs, action, scope)
	return d.Allowed, err
}

func newWorld(t *testing.T) world {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewVirtual(clock.Wall{}, 0)
	kr, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := directory.New(st, clk, rand.Reader)
	if _, err := bootstrap.Ensure(ctx, st, dir, clk, kr); err != nil {
		t.Fatal(err)
	}
	rb, err := rbac.New(ctx, st, clk, rbac.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := resources.New(st, clk, time.Minute)
	ids := msi.New(st, dir)
	net := netres.New(st, clk, uuid.NewString)
	clusters := aks.New(aks.Deps{Store: st, Clock: clk, Directory: dir, Identities: ids, Resources: res, Sealer: kr,
		Roles: grants{rb}, Nodes: net})
	hs := hosts.New(hosts.Deps{Store: st, Directory: dir, Identities: ids, Clusters: clusters, Keys: kr, Random: rand.Reader})
	return world{dir: dir, rb: rb, res: res.WithOwners(clusters, ids, net, hs, rb), msi: ids, net: net, clusters: clusters, hosts: hs}
}

func (w world) assign(t *testing.T, scope, principal string) {
	t.Helper()
	_, err := w.rb.CreateAssignment(t.Context(), rbac.AssignmentSpec{Name: uuid.NewString(), Scope: scope, PrincipalID: principal,
		RoleDefinitionID: "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + readerRole})
	if err != nil {
		t.Fatal(err)
	}
}

// under lists the assignments at or below scope (not those above it).
func (w world) assignmentsUnder(t *testing.T, scope string) []string {
	t.Helper()
	list, err := w.rb.ListAssignments(t.Context(), scope, rbac.AssignmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range list {
		if strings.HasPrefix(strings.ToLower(a.Scope), strings.ToLower(scope)) {
			out = append(out, a.ID)
		}
	}
	return out
}

// TestDeleteGroupCascades: deleting a group deletes its cluster (with the
// node resource group, kubelet identity, load balancer and nodes), its
// identities, its network and the role assignments on all of them, through
// the domain alone; the group made again is empty.
func TestDeleteGroupCascades(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	group := "/subscriptions/" + sub + "/resourceGroups/d1"
	nodeGroup := "/subscriptions/" + sub + "/resourceGroups/MC_d1_c1_westus2"
	if _, err := w.res.PutGroup(ctx, sub, "d1", resources.GroupSpec{Location: "westus2"}); err != nil {
		t.Fatal(err)
	}
	put, err := w.clusters.Put(ctx, aks.PutRequest{TenantID: tenant, Sub: sub, Group: "d1", Name: "c1",
		Body: map[string]any{"location": "westus2", "identity": map[string]any{"type": "SystemAssigned"}, "properties": map[string]any{}}})
	if err != nil {
		t.Fatal(err)
	}
	clusterID := put.Model["id"].(string)
	kubelet := put.Model["properties"].(map[string]any)["identityProfile"].(map[string]any)["kubeletidentity"].(map[string]any)
	systemOID := put.Model["identity"].(map[string]any)["principalId"].(string)
	ident, err := w.msi.Put(ctx, tenant, sub, "d1", "id1", msi.Spec{Location: "westus2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.net.Put(ctx, netres.PutRequest{Sub: sub, Group: "d1", Type: netres.VirtualNetworks, Name: "vnet1",
		Spec: netres.Spec{Location: "westus2", Properties: map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.hosts.EnsureCluster(ctx, "d1/c1", clusterID); err != nil {
		t.Fatal(err)
	}
	w.assign(t, group, ident.Value.Properties.PrincipalID)
	w.assign(t, ident.Value.ID, ident.Value.Properties.PrincipalID)
	w.assign(t, clusterID, ident.Value.Properties.PrincipalID)
	if got := w.assignmentsUnder(t, nodeGroup); len(got) != 1 {
		t.Fatalf("AKS's grant on the node group: %v", got)
	}

	if err := w.res.DeleteGroup(ctx, sub, "d1"); err != nil {
		t.Fatal(err)
	}
	gone := func(when string) {
		t.Helper()
		if list, err := w.clusters.List(ctx, "/subscriptions/"+sub); err != nil || len(list) != 0 {
			t.Fatalf("%s: clusters %v %v", when, list, err)
		}
		for _, scope := range []string{group, nodeGroup} {
			if list, err := w.msi.List(ctx, scope); err != nil || len(list) != 0 {
				t.Fatalf("%s: identities in %s: %v %v", when, scope, list, err)
			}
			if list, err := w.net.List(ctx, scope, ""); err != nil || len(list) != 0 {
				t.Fatalf("%s: network in %s: %v %v", when, scope, list, err)
			}
			if list, err := w.res.ListResources(ctx, scope, ""); err != nil || len(list) != 0 {
				t.Fatalf("%s: index in %s: %v %v", when, scope, list, err)
			}
			if got := w.assignmentsUnder(t, scope); len(got) != 0 {
				t.Fatalf("%s: assignments in %s: %v", when, scope, got)
			}
		}
		if _, err := w.hosts.Get(ctx, "d1/c1"); err == nil {
			t.Fatalf("%s: the cluster's nodes outlived it", when)
		}
		for _, oid := range []string{systemOID, kubelet["objectId"].(string), ident.Value.Properties.PrincipalID} {
			if _, err := w.dir.Object(ctx, tenant, oid); err == nil {
				t.Fatalf("%s: principal %s outlived its identity", when, oid)
			}
		}
	}
	gone("after delete")
	if _, err := w.res.GetGroup(ctx, sub, "MC_d1_c1_westus2"); err == nil {
		t.Fatal("the node resource group outlived its cluster")
	}
	if _, err := w.res.GetGroup(ctx, sub, "d1"); err == nil {
		t.Fatal("the group outlived its deletion")
	}
	for _, g := range []string{"d1", "MC_d1_c1_westus2"} {
		if _, err := w.res.PutGroup(ctx, sub, g, resources.GroupSpec{Location: "westus2"}); err != nil {
			t.Fatal(err)
		}
	}
	gone("after making the groups again")
}

// TestDeleteScopeOfCluster: deleting a cluster alone takes its node
// resource group with what is in it, and leaves its group's other
// resources.
func TestDeleteScopeOfCluster(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if _, err := w.res.PutGroup(ctx, sub, "d2", resources.GroupSpec{Location: "westus2"}); err != nil {
		t.Fatal(err)
	}
	put, err := w.clusters.Put(ctx, aks.PutRequest{TenantID: tenant, Sub: sub, Group: "d2", Name: "c2",
		Body: map[string]any{"location": "westus2", "properties": map[string]any{}}})
	if err != nil {
		t.Fatal(err)
	}
	ident, err := w.msi.Put(ctx, tenant, sub, "d2", "keep-me", msi.Spec{Location: "westus2"})
	if err != nil {
		t.Fatal(err)
	}
	id := put.Model["id"].(string)
	if _, err := w.hosts.EnsureCluster(ctx, "d2/c2", id); err != nil {
		t.Fatal(err)
	}
	if err := w.res.DeleteScope(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clusters.Get(ctx, id); err == nil {
		t.Fatal("cluster still there")
	}
	if _, err := w.res.GetGroup(ctx, sub, "MC_d2_c2_westus2"); err == nil {
		t.Fatal("node resource group still there")
	}
	if _, err := w.hosts.Get(ctx, "d2/c2"); err == nil {
		t.Fatal("nodes still there")
	}
	if _, err := w.msi.Get(ctx, ident.Value.ID); err != nil {
		t.Fatalf("a sibling went with the cluster: %v", err)
	}
	if _, err := w.res.GetGroup(ctx, sub, "d2"); err != nil {
		t.Fatalf("the cluster's group went with it: %v", err)
	}
}
