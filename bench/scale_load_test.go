package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// scaleObjectsSet is what populating a directory to one size writes: the
// documents, and a sample of the objects for the queries to ask for.
type scaleObjectsSet struct {
	docs   []store.Document
	sample []scaleObject
}

var scratch struct {
	sync.Mutex
	bySize map[int]*scaleObjectsSet
}

// objectsFor returns the documents that populating a bootstrapped store
// like base with size objects adds or changes. They are made once per
// size, through aksid's own services (directory, rbac, resources) on an
// in-memory copy of base, so both backends get the same directory and
// neither pays a round trip per statement to build it. Tenant and
// subscription are the bootstrap's, the same in every data directory.
func objectsFor(b *testing.B, base store.Store, tenant, sub string, size int) *scaleObjectsSet {
	b.Helper()
	scratch.Lock()
	defer scratch.Unlock()
	if set := scratch.bySize[size]; set != nil {
		return set
	}
	ctx := b.Context()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	before := map[string][]byte{}
	var seed []store.Document
	if err := store.Dump(ctx, base, func(kind, key string, value []byte) error {
		before[kind+"\\x00"+key] = bytes.Clone(value)
		seed = append(seed, store.Document{Kind: kind, Key: key, Value: bytes.Clone(value)})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if err := store.Load(ctx, st, seed); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	set := &scaleObjectsSet{sample: populateStore(b, st, tenant, sub, size)}
	if err := store.Dump(ctx, st, func(kind, key string, value []byte) error {
		if old, ok := before[kind+"\\x00"+key]; !ok || !bytes.Equal(old, value) {
			set.docs = append(set.docs, store.Document{Kind: kind, Key: key, Value: bytes.Clone(value)})
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d objects made in %.1f s: %d documents", size, time.Since(t0).Seconds(), len(set.docs))
	if scratch.bySize == nil {
		scratch.bySize = map[int]*scaleObjectsSet{}
	}
	scratch.bySize[size] = set
	return set
}

// populateStore writes size objects into st, 500 to a transaction: an
// application and its principal, a Reader assignment to the principal on
// group rg-(i/10), that group, and an identity in the resource index.
func populateStore(b *testing.B, st store.Store, tenant, sub string, size int) []scaleObject {
	b.Helper()
	ctx := b.Context()
	clk := clock.Wall{}
	dir := directory.New(st, clk, crand.Reader)
	roles, err := rbac.New(ctx, st, clk, rbac.Options{})
	if err != nil {
		b.Fatal(err)
	}
	res := resources.New(st, clk, 0)
	subID := strings.TrimPrefix(sub, "/subscriptions/")
	every := max(1, size/200)
	var sample []scaleObject
	for start := 0; start < size; start += 500 {
		err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			for i := start; i < min(start+500, size); i++ {
				name := fmt.Sprintf("scale-%06d", i)
				reg, err := dir.CreateApplication(ctx, tenant, directory.ApplicationSpec{DisplayName: name,
					IdentifierURIs: []string{"api://" + name}})
				if err != nil {
					return err
				}
				group := fmt.Sprintf("rg-%05d", i/10)
				if i%10 == 0 {
					if _, err := res.PutGroup(ctx, subID, group, resources.GroupSpec{Location: "eastus"}); err != nil {
						return err
					}
				}
				scope := sub + "/resourceGroups/" + group
				if _, err := roles.CreateAssignment(ctx, rbac.AssignmentSpec{Name: uuid.NewString(), Scope: scope,
					RoleDefinitionID: sub + "/providers/Microsoft.Authorization/roleDefinitions/" + readerRole,
					PrincipalID:      reg.SP.ObjectID, PrincipalType: "ServicePrincipal"}); err != nil {
					return err
				}
				if err := resources.IndexResource(tx, resources.GenericResource{ID: scope + "/providers/" + identityType + "/id-" + name,
					Name: "id-" + name, Type: identityType, Location: "eastus"}); err != nil {
					return err
				}
				if i%every == 0 {
					sample = append(sample, scaleObject{i, reg.App.AppID, reg.SP.ObjectID})
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("populating: %v", err)
		}
	}
	return sample
}
