package resources

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// ScopeOwner is a resource provider (or RBAC) that deletes what it owns
// at or under a scope, when the scope goes.
type ScopeOwner interface {
	DeleteUnder(ctx context.Context, scope string) error
}

// WithOwners returns the service whose deletions cascade through owners:
// deleting a group or a resource deletes what each owner keeps under it.
// The owners themselves hold the service without owners (a provider
// creates groups, such as a cluster's node resource group, but deletes
// only its own records), so the cascade has one entry whichever face or
// command asks.
func (s *Service) WithOwners(owners ...ScopeOwner) *Service {
	c := *s
	c.owners = append([]ScopeOwner(nil), owners...)
	return &c
}

// under tells whether id is scope or lies below it (case-insensitive).
func under(id, scope string) bool {
	id, scope = strings.ToLower(strings.TrimRight(id, "/")), strings.ToLower(strings.TrimRight(scope, "/"))
	return id == scope || strings.HasPrefix(id, scope+"/")
}

// DeleteScope deletes what lies at or under scope (a resource's ID): the
// groups managed from there first (a cluster's node resource group, as
// Azure deletes it with the cluster), then each owner's records.
func (s *Service) DeleteScope(ctx context.Context, scope string) error {
	return s.deleteScope(ctx, scope, map[string]bool{})
}

func (s *Service) deleteScope(ctx context.Context, scope string, seen map[string]bool) error {
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(scope), "/subscriptions/"), "/")[0]
	groups, err := s.Groups(ctx, sub)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.ManagedBy != "" && under(g.ManagedBy, scope) && !under(g.ID, scope) {
			if err := s.deleteGroup(ctx, sub, g, seen); err != nil {
				return err
			}
		}
	}
	for _, o := range s.owners {
		if err := o.DeleteUnder(ctx, scope); err != nil {
			return err
		}
	}
	return nil
}

// DeleteGroup deletes a group and everything in it, through the owners.
func (s *Service) DeleteGroup(ctx context.Context, sub, name string) error {
	g, err := s.GetGroup(ctx, sub, name)
	if err != nil {
		return err
	}
	return s.deleteGroup(ctx, sub, g, map[string]bool{})
}

func (s *Service) deleteGroup(ctx context.Context, sub string, g Group, seen map[string]bool) error {
	key := strings.ToLower(g.ID)
	if seen[key] { // groups managing each other: each goes once
		return nil
	}
	seen[key] = true
	if err := s.deleteScope(ctx, g.ID, seen); err != nil {
		return err
	}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Delete(kindGroup, groupKey(sub, g.Name)); err != nil {
			return err
		}
		// Index entries no owner claimed go with the group.
		items, err := tx.List(kindResource, key+"/")
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := tx.Delete(kindResource, it.Key); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return errGroupNotFound(g.Name)
	}
	return err
}
