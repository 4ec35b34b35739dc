// Package msi holds user-assigned managed identities: ARM resources whose principals get tokens only through the managed-identity endpoint.
package msi

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindIdentity = "user_assigned_identity" // lower(resource id) → Identity
	// ResourceType is the ARM type of user-assigned identities.
	ResourceType = "Microsoft.ManagedIdentity/userAssignedIdentities"
)

// Identity is a user-assigned identity as ARM shows it.
type Identity struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	Properties Properties        `json:"properties"`
}

// Properties are the identity's directory side.
type Properties struct {
	TenantID    string `json:"tenantId"`
	PrincipalID string `json:"principalId"` // the service principal's object ID
	ClientID    string `json:"clientId"`    // its appId
}

// Service creates, reads and deletes identities.
type Service struct {
	st  store.Store
	dir *directory.Directory
}

// New returns the service.
func New(st store.Store, dir *directory.Directory) *Service { return &Service{st: st, dir: dir} }

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$`)

// Spec is the body of a create-or-update.
type Spec struct {
	Location string
	Tags     map[string]string
}

// Put creates the identity (with its principal) or updates its tags.
func (s *Service) Put(ctx context.Context, tenantID, sub, group, name string, spec Spec) (resources.Upsert[Identity], error) {
	if !validName.MatchString(name) {
		return resources.Upsert[Identity]{}, azerr.New(azerr.Invalid, "InvalidResourceName",
			"Resource name '%s' is invalid. The name can contain only letters, numbers, underscores and hyphens, 3 to 128 characters, starting with a letter or number.", name)
	}
	loc, err := resources.NormalizeLocation(spec.Location)
	if err != nil {
		return resources.Upsert[Identity]{}, azerr.New(azerr.Invalid, "LocationNotAvailableForResourceType",
			"The provided location '%s' is not available for resource type '%s'.", spec.Location, ResourceType)
	}
	id := "/subscriptions/" + sub + "/resourcegroups/" + group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name
	if cur, err := s.Get(ctx, id); err == nil {
		if !strings.EqualFold(cur.Location, loc) {
			return resources.Upsert[Identity]{}, azerr.New(azerr.Invalid, "InvalidResourceLocation",
				"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'.", name, cur.Location, group, loc)
		}
		cur.Tags = nonNil(spec.Tags)
		return resources.Upsert[Identity]{Value: cur}, s.save(ctx, cur)
	}
	sp, err := s.dir.CreateManagedIdentity(ctx, tenantID, name, id)
	if err != nil {
		return resources.Upsert[Identity]{}, err
	}
	ident := Identity{ID: id, Name: name, Type: ResourceType, Location: loc, Tags: nonNil(spec.Tags),
		Properties: Properties{TenantID: tenantID, PrincipalID: sp.ObjectID, ClientID: sp.AppID}}
	if err := s.save(ctx, ident); err != nil {
		_ = s.dir.DeleteManagedIdentity(ctx, tenantID, sp.AppID) // undo the directory side
		return resources.Upsert[Identity]{}, err
	}
	return resources.Upsert[Identity]{Value: ident, Created: true}, nil
}

func nonNil(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}

func (s *Service) save(ctx context.Context, ident Identity) error {
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := store.PutJSON(tx, kindIdentity, strings.ToLower(ident.ID), ident); err != nil {
			return err
		}
		return resources.IndexResource(tx, resources.GenericResource{ID: ident.ID, Name: ident.Name, Type: ResourceType, Location: ident.Location, Tags: ident.Tags})
	})
}

func notFound(id string) error {
	return azerr.ResourceNotFound(ResourceType, id)
}

// Get finds an identity by resource ID (case-insensitive).
func (s *Service) Get(ctx context.Context, id string) (Identity, error) {
	var ident Identity
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindIdentity, strings.ToLower(id), &ident)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, notFound(id)
	}
	return ident, err
}

// Delete removes the identity and its principal.
func (s *Service) Delete(ctx context.Context, id string) error {
	ident, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Delete(kindIdentity, strings.ToLower(id)); err != nil {
			return err
		}
		return resources.UnindexResource(tx, ident.ID)
	})
	if err != nil {
		return err
	}
	return s.dir.DeleteManagedIdentity(ctx, ident.Properties.TenantID, ident.Properties.ClientID)
}

// List returns the identities under scope (a subscription or group ID).
func (s *Service) List(ctx context.Context, scope string) ([]Identity, error) {
	var out []Identity
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Identity](tx, kindIdentity, strings.ToLower(strings.TrimRight(scope, "/"))+"/")
		return err
	})
	return out, err
}

// Selector names an identity the way managed-identity clients do.
type Selector struct {
	ClientID   string
	ObjectID   string
	ResourceID string
}

// Find returns the identity a selector names (exactly one field set).
func (s *Service) Find(ctx context.Context, sel Selector) (Identity, error) {
	if sel.ResourceID != "" {
		return s.Get(ctx, sel.ResourceID)
	}
	var found *Identity
	q := store.Query{Index: byClientID, Terms: []string{strings.ToLower(sel.ClientID)}}
	if sel.ClientID == "" {
		q = store.Query{Index: byPrincipalID, Terms: []string{strings.ToLower(sel.ObjectID)}}
	}
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		hits, err := tx.Find(kindIdentity, q)
		if err != nil || len(hits) == 0 {
			return err
		}
		var ident Identity
		if err := json.Unmarshal(hits[0].Value, &ident); err != nil {
			return err
		}
		found = &ident
		return nil
	})
	if err != nil {
		return Identity{}, err
	}
	if found == nil {
		return Identity{}, azerr.New(azerr.NotFound, "IdentityNotFound", "Identity not found")
	}
	return *found, nil
}

// DeleteUnder removes the identities at or under scope with their
// principals, when a group goes.
func (s *Service) DeleteUnder(ctx context.Context, scope string) error {
	list, err := s.List(ctx, scope)
	if err != nil {
		return err
	}
	if at, err := s.Get(ctx, scope); err == nil {
		list = append(list, at)
	}
	for _, ident := range list {
		if err := s.Delete(ctx, ident.ID); err != nil {
			return err
		}
	}
	return nil
}

// Identities are found by client ID and by principal ID (IMDS asks by
// either) through the store's indexes.
const (
	byClientID    = "clientId"
	byPrincipalID = "principalId"
)

func init() {
	index := func(name string, value func(Identity) string) {
		store.DefineIndex(store.Index{Kind: kindIdentity, Name: name, Version: 1, Terms: func(_ string, b []byte) []string {
			var ident Identity
			if json.Unmarshal(b, &ident) != nil {
				return nil
			}
			return []string{strings.ToLower(value(ident))}
		}})
	}
	index(byClientID, func(i Identity) string { return i.Properties.ClientID })
	index(byPrincipalID, func(i Identity) string { return i.Properties.PrincipalID })
}
