// Package resources holds Resource Manager's own objects: tenants, subscriptions, resource groups, the generic resource index, providers and preview features.
package resources

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindGroup    = "resource_group" // lower(sub)/lower(name)
	kindResource = "resource"       // lower(full id)
)

// Service reads and changes subscriptions, groups, resources, providers
// and features.
type Service struct {
	st           store.Store
	clk          clock.Clock
	featureDelay time.Duration
	owners       []ScopeOwner // see WithOwners
}

// New returns the service; featureDelay is how long a preview feature
// stays Registering on aksid's clock.
func New(st store.Store, clk clock.Clock, featureDelay time.Duration) *Service {
	return &Service{st: st, clk: clk, featureDelay: featureDelay}
}

// Subscription is an ARM subscription.
type Subscription = bootstrap.Subscription

// Subscriptions lists the tenant's subscriptions.
func (s *Service) Subscriptions(ctx context.Context, tenantID string) ([]Subscription, error) {
	var out []Subscription
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		items, err := store.ListJSON[Subscription](tx, bootstrap.KindSubscription, "")
		if err != nil {
			return err
		}
		for _, sub := range items {
			if strings.EqualFold(sub.TenantID, tenantID) {
				out = append(out, sub)
			}
		}
		return nil
	})
	return out, err
}

// Subscription finds one subscription of the tenant.
func (s *Service) Subscription(ctx context.Context, tenantID, id string) (Subscription, error) {
	var sub Subscription
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, bootstrap.KindSubscription, strings.ToLower(id), &sub)
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !strings.EqualFold(sub.TenantID, tenantID)) {
		return Subscription{}, azerr.New(azerr.NotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", id)
	}
	return sub, err
}

// Group is a resource group.
type Group struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	ManagedBy  string            `json:"managedBy,omitempty"`
	Tags       map[string]string `json:"tags"`
	Properties struct {
		ProvisioningState string `json:"provisioningState"`
	} `json:"properties"`
}

var groupName = regexp.MustCompile(`^[-\w\._\(\)]{1,90}$`)

func groupKey(sub, name string) string { return strings.ToLower(sub) + "/" + strings.ToLower(name) }

// GroupSpec is the body of a create-or-update.
type GroupSpec struct {
	Location  string
	Tags      map[string]string
	ManagedBy string
}

// Upsert is a create-or-update's result: the resource, and whether this
// call created it (ARM answers 201 then, 200 otherwise).
type Upsert[T any] struct {
	Value   T
	Created bool
}

// PutGroup creates a group or updates its tags; the location of an
// existing group cannot change. It tells whether the group was created.
func (s *Service) PutGroup(ctx context.Context, sub, name string, spec GroupSpec) (Upsert[Group], error) {
	if !groupName.MatchString(name) || strings.HasSuffix(name, ".") {
		return Upsert[Group]{}, azerr.New(azerr.Invalid, "InvalidResourceGroup",
			"The provided resource group name '%s' has these invalid characters: the name must be 1-90 characters of letters, digits, '_', '-', '.', '(' and ')', not ending in '.'.", name)
	}
	loc, err := NormalizeLocation(spec.Location)
	if err != nil {
		return Upsert[Group]{}, azerr.New(azerr.Invalid, "LocationNotAvailableForResourceGroup",
			"The provided location '%s' is not available for resource group. List of available regions is '%s'.", spec.Location, strings.Join(Locations(), ","))
	}
	var g Group
	created := false
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		err := store.GetJSON(tx, kindGroup, groupKey(sub, name), &g)
		switch {
		case errors.Is(err, store.ErrNotFound):
			created = true
			g = Group{ID: "/subscriptions/" + sub + "/resourceGroups/" + name, Name: name,
				Type: "Microsoft.Resources/resourceGroups", Location: loc}
			g.Properties.ProvisioningState = "Succeeded"
		case err != nil:
			return err
		case !strings.EqualFold(g.Location, loc):
			return azerr.New(azerr.Conflict, "InvalidResourceGroupLocation",
				"Invalid resource group location '%s'. The Resource group already exists in location '%s'.", loc, g.Location)
		}
		g.Tags = spec.Tags
		if g.Tags == nil {
			g.Tags = map[string]string{}
		}
		g.ManagedBy = spec.ManagedBy
		return store.PutJSON(tx, kindGroup, groupKey(sub, name), g)
	})
	return Upsert[Group]{g, created}, err
}

func errGroupNotFound(name string) error {
	return azerr.New(azerr.NotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", name)
}

// GetGroup finds a group.
func (s *Service) GetGroup(ctx context.Context, sub, name string) (Group, error) {
	var g Group
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindGroup, groupKey(sub, name), &g)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Group{}, errGroupNotFound(name)
	}
	return g, err
}

// PatchGroup replaces a group's tags (az group update --set tags…).
func (s *Service) PatchGroup(ctx context.Context, sub, name string, tags map[string]string) (Group, error) {
	var g Group
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := store.GetJSON(tx, kindGroup, groupKey(sub, name), &g); err != nil {
			return err
		}
		if tags != nil {
			g.Tags = tags
		}
		return store.PutJSON(tx, kindGroup, groupKey(sub, name), g)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Group{}, errGroupNotFound(name)
	}
	return g, err
}

// Groups lists a subscription's groups ordered by name.
func (s *Service) Groups(ctx context.Context, sub string) ([]Group, error) {
	var out []Group
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Group](tx, kindGroup, strings.ToLower(sub)+"/")
		return err
	})
	return out, err
}

// GenericResource is an entry in the resource index that
// `GET /subscriptions/{s}/resources` lists; resource providers write it.
type GenericResource struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Location string            `json:"location"`
	Tags     map[string]string `json:"tags,omitempty"`
}

// IndexResource records r in the index (inside the provider's transaction).
func IndexResource(tx store.Tx, r GenericResource) error {
	return store.PutJSON(tx, kindResource, strings.ToLower(r.ID), r)
}

// UnindexResource removes id from the index.
func UnindexResource(tx store.Tx, id string) error {
	err := tx.Delete(kindResource, strings.ToLower(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// ListResources lists the index under scope (a subscription or group ID),
// keeping those whose type equals resourceType when it is not empty.
func (s *Service) ListResources(ctx context.Context, scope, resourceType string) ([]GenericResource, error) {
	out := []GenericResource{}
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		at := strings.ToLower(strings.TrimRight(scope, "/"))
		var items []GenericResource
		if resourceType != "" {
			hits, err := tx.Find(kindResource, store.Query{Index: byScopeAndType, Terms: []string{scopeTypeTerm(at, resourceType)}})
			if err != nil {
				return err
			}
			for _, h := range hits {
				var r GenericResource
				if err := json.Unmarshal(h.Value, &r); err != nil {
					return err
				}
				items = append(items, r)
			}
		} else {
			var err error
			if items, err = store.ListJSON[GenericResource](tx, kindResource, at+"/"); err != nil {
				return err
			}
		}
		for _, r := range items {
			if resourceType == "" || strings.EqualFold(r.Type, resourceType) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// locations are the public Azure regions aksid accepts.
var locations = []string{"australiaeast", "brazilsouth", "canadacentral", "centralindia", "centralus", "eastasia",
	"eastus", "eastus2", "francecentral", "germanywestcentral", "japaneast", "koreacentral", "northcentralus",
	"northeurope", "norwayeast", "southafricanorth", "southcentralus", "southeastasia", "swedencentral",
	"switzerlandnorth", "uaenorth", "uksouth", "ukwest", "westcentralus", "westeurope", "westus", "westus2", "westus3"}

// Locations lists the accepted regions.
func Locations() []string { return slices.Clone(locations) }

// NormalizeLocation accepts "West US 2" or "westus2" and returns the
// canonical short name.
func NormalizeLocation(loc string) (string, error) {
	n := strings.ToLower(strings.ReplaceAll(loc, " ", ""))
	if slices.Contains(locations, n) {
		return n, nil
	}
	return "", errors.New("unknown location")
}

// byScopeAndType indexes the resource index by type under each enclosing
// subscription and group, so a listing by type reads only that type.
const byScopeAndType = "scope-type"

func scopeTypeTerm(scopeKey, resourceType string) string {
	return scopeKey + "\x00" + strings.ToLower(resourceType)
}

func init() {
	store.DefineIndex(store.Index{Kind: kindResource, Name: byScopeAndType, Version: 1, Terms: func(_ string, b []byte) []string {
		var r GenericResource
		if json.Unmarshal(b, &r) != nil {
			return nil
		}
		id, err := armid.Parse(r.ID)
		if err != nil {
			return nil
		}
		var out []string
		for _, a := range id.Ancestors()[1:] {
			if a.IsRoot() {
				break
			}
			out = append(out, scopeTypeTerm(a.Key(), r.Type))
		}
		return out
	}})
}

// Page is one page of a listing; Next resumes it ("" on the last page).
type Page[T any] struct {
	Items []T
	Next  string
}

// ErrBadSkipToken: a page token this package did not make.
var ErrBadSkipToken = azerr.New(azerr.Invalid, "InvalidSkipToken", "The skip token is not valid.")

// A page token is the position of a page's last item in the listing's
// order: an index term (which may hold a NUL) and a key, as JSON.
func pageToken(term, key string) string {
	b, _ := json.Marshal(store.Cursor{Term: term, Key: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

func readPageToken(tok string) (store.Cursor, error) {
	var c store.Cursor
	if tok == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Key == "" {
		return store.Cursor{}, ErrBadSkipToken
	}
	return c, nil
}

// decodePage turns up to limit+1 documents into a page of limit and the
// token of the last one kept when there were more.
func decodePage[T any](items []store.Hit, limit int) (Page[T], error) {
	var p Page[T]
	for i, it := range items {
		if i == limit {
			last := items[i-1]
			p.Next = pageToken(last.Term, last.Key)
			break
		}
		var v T
		if err := json.Unmarshal(it.Value, &v); err != nil {
			return p, err
		}
		p.Items = append(p.Items, v)
	}
	return p, nil
}

func asHits(items []store.Item) []store.Hit {
	hits := make([]store.Hit, len(items))
	for i, it := range items {
		hits[i] = store.Hit{Key: it.Key, Value: it.Value}
	}
	return hits
}

// GroupsPage lists a subscription's groups ordered by name, limit at a
// time, each page resuming from the previous one's Next.
func (s *Service) GroupsPage(ctx context.Context, sub, after string, limit int) (Page[Group], error) {
	cur, err := readPageToken(after)
	if err != nil {
		return Page[Group]{}, err
	}
	var p Page[Group]
	err = s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		items, err := tx.Page(kindGroup, strings.ToLower(sub)+"/", cur.Key, limit+1)
		if err != nil {
			return err
		}
		p, err = decodePage[Group](asHits(items), limit)
		return err
	})
	return p, err
}

// ListResourcesPage is ListResources limit at a time: by the type index
// when resourceType is set, else in key order under scope.
func (s *Service) ListResourcesPage(ctx context.Context, scope, resourceType, after string, limit int) (Page[GenericResource], error) {
	cur, err := readPageToken(after)
	if err != nil {
		return Page[GenericResource]{}, err
	}
	at := strings.ToLower(strings.TrimRight(scope, "/"))
	var p Page[GenericResource]
	err = s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var hits []store.Hit
		if resourceType != "" {
			hits, err = tx.Find(kindResource, store.Query{Index: byScopeAndType, Terms: []string{scopeTypeTerm(at, resourceType)},
				After: cur, Limit: limit + 1})
		} else {
			var items []store.Item
			items, err = tx.Page(kindResource, at+"/", cur.Key, limit+1)
			hits = asHits(items)
		}
		if err != nil {
			return err
		}
		p, err = decodePage[GenericResource](hits, limit)
		return err
	})
	return p, err
}
