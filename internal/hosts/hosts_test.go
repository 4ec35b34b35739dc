package hosts

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
)

const (
	tid = "11111111-2222-3333-4444-555555555555"
	sub = "99999999-2222-3333-4444-555555555555"
)

// clusters is a cluster with fixed node identities, or none.
type clusters map[string][]string

func (c clusters) NodeIdentities(_ context.Context, id string) (aks.Nodes, error) {
	ids, ok := c[strings.ToLower(id)]
	if !ok {
		return aks.Nodes{}, azerr.New(azerr.NotFound, "ResourceNotFound", "no cluster %s", id)
	}
	return aks.Nodes{TenantID: tid, IdentityIDs: ids}, nil
}

func newService(t *testing.T, cl clusters) (*Service, *msi.Service, *directory.Directory, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := directory.New(st, clock.NewVirtual(clock.Wall{}, 0), rand.Reader)
	if err := dir.EnsureTenant(ctx, directory.Tenant{ID: tid, DisplayName: "t", DefaultDomain: "t.test", Domains: []string{"t.test"}}); err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Random()
	if err != nil {
		t.Fatal(err)
	}
	ids := msi.New(st, dir)
	return New(Deps{Store: st, Directory: dir, Identities: ids, Clusters: cl, Keys: kr, Random: rand.Reader}), ids, dir, st
}

func uami(t *testing.T, ids *msi.Service, name string) msi.Identity {
	t.Helper()
	up, err := ids.Put(context.Background(), tid, sub, "rg", name, msi.Spec{Location: "westus2"})
	if err != nil {
		t.Fatal(err)
	}
	return up.Value
}

// TestHostsServeOnlyTheirIdentities: IMDS's selection rules on each host
// (system-assigned by default, else the only user-assigned one, several
// must be named, another host's never), cluster nodes follow the cluster,
// and identities deleted since assignment are gone.
func TestHostsServeOnlyTheirIdentities(t *testing.T) {
	ctx := context.Background()
	clusterID := "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	cl := clusters{}
	s, ids, dir, _ := newService(t, cl)
	a, b, c := uami(t, ids, "ui-a"), uami(t, ids, "ui-b"), uami(t, ids, "ui-c")
	cl[strings.ToLower(clusterID)] = []string{b.ID, c.ID}

	vm1, err := s.CreateVM(ctx, VMSpec{TenantID: tid, SubscriptionID: sub, Name: "vm1", SystemAssigned: true, UserAssigned: []string{a.ID, strings.ToUpper(a.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := dir.ServicePrincipal(ctx, tid, vm1.System.ClientID)
	if err != nil || sp.ServicePrincipalType != directory.ManagedIdentityType || sp.ObjectID != vm1.System.PrincipalID || len(vm1.UserAssigned) != 1 {
		t.Fatalf("system-assigned principal %+v %v; host %+v", sp, err, vm1)
	}
	vm2, _ := s.CreateVM(ctx, VMSpec{TenantID: tid, SubscriptionID: sub, Name: "vm2", UserAssigned: []string{b.ID}})
	vm3, _ := s.CreateVM(ctx, VMSpec{TenantID: tid, SubscriptionID: sub, Name: "vm3", UserAssigned: []string{b.ID, c.ID}})
	node, err := s.EnsureCluster(ctx, "rg/c1", clusterID)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host Host
		sel  msi.Selector
		want string // principal ID, or the error
	}{
		{vm1, msi.Selector{}, vm1.System.PrincipalID},
		{vm1, msi.Selector{ClientID: strings.ToUpper(a.Properties.ClientID)}, a.Properties.PrincipalID},
		{vm1, msi.Selector{ResourceID: a.ID + "/"}, a.Properties.PrincipalID},
		{vm1, msi.Selector{ObjectID: b.Properties.PrincipalID}, ErrIdentityNotFound.Error()},
		{vm2, msi.Selector{}, b.Properties.PrincipalID},
		{vm2, msi.Selector{ClientID: a.Properties.ClientID}, ErrIdentityNotFound.Error()},
		{vm3, msi.Selector{}, ErrMultiple.Error()},
		{vm3, msi.Selector{ObjectID: c.Properties.PrincipalID}, c.Properties.PrincipalID},
		{node, msi.Selector{}, ErrMultiple.Error()},
		{node, msi.Selector{ClientID: b.Properties.ClientID}, b.Properties.PrincipalID},
		{node, msi.Selector{ClientID: a.Properties.ClientID}, ErrIdentityNotFound.Error()},
	}
	for i, tc := range cases {
		got, err := s.Resolve(ctx, tc.host, tc.sel)
		res := got.PrincipalID
		if err != nil {
			res = err.Error()
		}
		if res != tc.want {
			t.Errorf("case %d (%s %+v): %s, want %s", i, tc.host.Name, tc.sel, res, tc.want)
		}
	}
	if got, _ := s.Resolve(ctx, vm1, msi.Selector{}); got.ResourceID != vm1.ResourceID || got.ClientID != vm1.System.ClientID {
		t.Fatalf("system-assigned identity carries the VM's resource ID: %+v", got)
	}

	// A deleted identity leaves its hosts; a node with one identity left
	// needs no selector; a deleted cluster's node has none.
	if err := ids.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Resolve(ctx, vm3, msi.Selector{}); err != nil || got.PrincipalID != b.Properties.PrincipalID {
		t.Fatalf("vm3 after ui-c was deleted: %+v %v", got, err)
	}
	delete(cl, strings.ToLower(clusterID))
	if _, err := s.Resolve(ctx, node, msi.Selector{}); !errors.Is(err, ErrIdentityNotFound) {
		t.Fatalf("node of a deleted cluster: %v", err)
	}

	// Deleting a VM deletes its system-assigned principal.
	if err := s.Delete(ctx, "VM1"); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.ServicePrincipal(ctx, tid, vm1.System.ClientID); !errors.Is(err, directory.ErrPrincipalNotFound) {
		t.Fatalf("the VM's principal survived it: %v", err)
	}
}

// TestHostSecretsAreStoredOnlyAsHashes: the secret authenticates its host
// by name (proxy credentials) or alone (IDENTITY_HEADER); a wrong secret,
// another host's secret or an unknown name do not; the store never holds
// it; a host made again under the same name gets a new one.
func TestHostSecretsAreStoredOnlyAsHashes(t *testing.T) {
	ctx := context.Background()
	s, _, _, st := newService(t, clusters{})
	def, err := s.EnsureDefault(ctx, tid, sub)
	if err != nil || def.Name != DefaultName || def.System == nil {
		t.Fatalf("default host %+v %v", def, err)
	}
	if again, err := s.EnsureDefault(ctx, tid, sub); err != nil || again.System.ClientID != def.System.ClientID {
		t.Fatalf("EnsureDefault made a second default host: %+v %v", again, err)
	}
	vm, err := s.CreateVM(ctx, VMSpec{TenantID: tid, SubscriptionID: sub, Name: "vm1", SystemAssigned: true})
	if err != nil {
		t.Fatal(err)
	}
	secret := s.Secret(vm)
	if len(secret) != 64 || secret == s.Secret(def) {
		t.Fatalf("secret %q", secret)
	}
	if h, err := s.Authenticate(ctx, "VM1", secret); err != nil || h.Name != "vm1" {
		t.Fatalf("authenticate: %+v %v", h, err)
	}
	if h, err := s.BySecret(ctx, secret); err != nil || h.Name != "vm1" {
		t.Fatalf("by secret: %+v %v", h, err)
	}
	for _, bad := range [][2]string{{"vm1", secret[:63]}, {"vm1", s.Secret(def)}, {"nope", secret}, {"vm1", ""}} {
		if _, err := s.Authenticate(ctx, bad[0], bad[1]); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("authenticate %q with a wrong secret: %v", bad[0], err)
		}
	}
	if _, err := s.BySecret(ctx, secret+"0"); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("by a wrong secret: %v", err)
	}
	err = st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, kind := range []string{kindHost, kindSecret} {
			items, err := tx.List(kind, "")
			if err != nil {
				return err
			}
			for _, it := range items {
				if strings.Contains(it.Key+string(it.Value), secret) {
					t.Errorf("the store holds the secret in %s/%s", kind, it.Key)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateVM(ctx, VMSpec{TenantID: tid, SubscriptionID: sub, Name: "vm1"}); err == nil {
		t.Fatal("a second host named vm1")
	}
	if _, err := s.CreateVM(ctx, VMSpec{TenantID: tid, SubscriptionID: sub, Name: "bad/name"}); err == nil {
		t.Fatal("a host named bad/name")
	}
	if err := s.Delete(ctx, "vm1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BySecret(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a deleted host's secret: %v", err)
	}
	again, err := s.CreateVM(ctx, VMSpec{TenantID: tid, SubscriptionID: sub, Name: "vm1"})
	if err != nil || s.Secret(again) == secret {
		t.Fatalf("recreated host reuses the old secret: %v", err)
	}
}
