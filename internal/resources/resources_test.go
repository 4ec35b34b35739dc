package resources

import (
	"context"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
)

func newService(t *testing.T) (*Service, *clock.Virtual, store.Store) {
	t.Helper()
	st, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewVirtual(clock.Wall{}, 0)
	err = st.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		return store.PutJSON(tx, bootstrap.KindSubscription, "sub1", Subscription{SubscriptionID: "sub1", TenantID: "t1", State: "Enabled"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(st, clk, 5*time.Minute), clk, st
}

func code(err error) string {
	if e, ok := azerr.As(err); ok {
		return e.Code
	}
	return ""
}

func TestResourceGroups(t *testing.T) {
	s, _, st := newService(t)
	ctx := context.Background()
	up, err := s.PutGroup(ctx, "sub1", "myResourceGroup", GroupSpec{Location: "West US 2", Tags: map[string]string{"env": "ci"}})
	g, created := up.Value, up.Created
	if err != nil || !created || g.Location != "westus2" || g.ID != "/subscriptions/sub1/resourceGroups/myResourceGroup" || g.Properties.ProvisioningState != "Succeeded" {
		t.Fatalf("create: %+v %v %v", g, created, err)
	}
	if again, err := s.PutGroup(ctx, "sub1", "MYRESOURCEGROUP", GroupSpec{Location: "westus2"}); err != nil || again.Created {
		t.Fatalf("idempotent put: %v %v", created, err)
	}
	if _, err := s.PutGroup(ctx, "sub1", "myResourceGroup", GroupSpec{Location: "eastus"}); code(err) != "InvalidResourceGroupLocation" {
		t.Fatalf("moved location: %v", err)
	}
	if _, err := s.PutGroup(ctx, "sub1", "bad/name", GroupSpec{Location: "eastus"}); code(err) != "InvalidResourceGroup" {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := s.PutGroup(ctx, "sub1", "x", GroupSpec{Location: "mars"}); code(err) != "LocationNotAvailableForResourceGroup" {
		t.Fatalf("bad location: %v", err)
	}
	if g, err := s.PatchGroup(ctx, "sub1", "myresourcegroup", map[string]string{"owner": "me"}); err != nil || g.Tags["owner"] != "me" || g.Name != "myResourceGroup" {
		t.Fatalf("patch: %+v %v", g, err)
	}
	// Deleting a group deletes what is in it, and nothing else.
	err = st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := IndexResource(tx, GenericResource{ID: "/subscriptions/sub1/resourceGroups/myResourceGroup/providers/Microsoft.ContainerRegistry/registries/acr1", Name: "acr1", Type: "Microsoft.ContainerRegistry/registries"}); err != nil {
			return err
		}
		return IndexResource(tx, GenericResource{ID: "/subscriptions/sub1/resourceGroups/other/providers/Microsoft.ContainerRegistry/registries/acr2", Name: "acr2", Type: "Microsoft.ContainerRegistry/registries"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListResources(ctx, "/subscriptions/sub1", "microsoft.containerregistry/registries"); len(l) != 2 {
		t.Fatalf("list by type: %v", l)
	}
	if err := s.DeleteGroup(ctx, "sub1", "myResourceGroup"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListResources(ctx, "/subscriptions/sub1", ""); len(l) != 1 || l[0].Name != "acr2" {
		t.Fatalf("after delete: %v", l)
	}
	if _, err := s.GetGroup(ctx, "sub1", "myResourceGroup"); code(err) != "ResourceGroupNotFound" {
		t.Fatalf("get deleted: %v", err)
	}
	if err := s.DeleteGroup(ctx, "sub1", "myResourceGroup"); code(err) != "ResourceGroupNotFound" {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := s.Subscription(ctx, "t2", "sub1"); code(err) != "SubscriptionNotFound" {
		t.Fatalf("other tenant's subscription: %v", err)
	}
}

func TestFeatureRegistersAfterDelayOnAksidClock(t *testing.T) {
	s, clk, _ := newService(t)
	ctx := context.Background()
	v, err := s.RegisterFeature(ctx, "sub1", "microsoft.containerservice", "msipreview", Register)
	if err != nil || v.Name != "Microsoft.ContainerService/MSIPreview" || v.Properties.State != "Registering" {
		t.Fatalf("register: %+v %v", v, err)
	}
	clk.SetOffset(4 * time.Minute)
	if v, _ := s.GetFeature(ctx, "sub1", "Microsoft.ContainerService", "MSIPreview"); v.Properties.State != "Registering" {
		t.Fatalf("too early: %s", v.Properties.State)
	}
	clk.SetOffset(5 * time.Minute)
	if v, _ := s.GetFeature(ctx, "sub1", "Microsoft.ContainerService", "MSIPreview"); v.Properties.State != "Registered" {
		t.Fatalf("after the delay: %s", v.Properties.State)
	}
	if v, _ := s.RegisterFeature(ctx, "sub1", "Microsoft.ContainerService", "MSIPreview", Register); v.Properties.State != "Registered" {
		t.Fatalf("registering again restarted it: %s", v.Properties.State)
	}
	list, err := s.ListFeatures(ctx, "sub1", "")
	if err != nil || len(list) < 10 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if _, err := s.GetFeature(ctx, "sub1", "Microsoft.ContainerService", "NoSuchFeature"); code(err) != "FeatureNotFound" {
		t.Fatalf("unknown feature: %v", err)
	}
}

func TestProviders(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	if v, _ := s.GetProvider(ctx, "sub1", "microsoft.containerservice"); v.RegistrationState != "NotRegistered" || v.Namespace != "Microsoft.ContainerService" {
		t.Fatalf("initial: %+v", v)
	}
	if v, _ := s.GetProvider(ctx, "sub1", "Microsoft.Resources"); v.RegistrationState != "Registered" {
		t.Fatal("Microsoft.Resources must be registered everywhere")
	}
	if v, err := s.RegisterProvider(ctx, "sub1", "Microsoft.ContainerService", Register); err != nil || v.RegistrationState != "Registered" {
		t.Fatalf("register: %+v %v", v, err)
	}
	if ok, _ := s.ProviderRegistered(ctx, "sub1", "MICROSOFT.CONTAINERSERVICE"); !ok {
		t.Fatal("not registered")
	}
	if _, err := s.RegisterProvider(ctx, "sub1", "Microsoft.Nope", Register); code(err) != "InvalidResourceNamespace" {
		t.Fatalf("unknown namespace: %v", err)
	}
}
