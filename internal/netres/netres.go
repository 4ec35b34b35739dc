// Package netres holds the few network, compute and registry resources a cluster's cloud provider touches: virtual networks with their subnets, public IPs, load balancers, managed disks and container registries.
package netres

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
)

const kindResource = "net_resource" // lower(resource id) → Resource

// The resource types this package serves, as ARM spells them.
const (
	VirtualNetworks   = "Microsoft.Network/virtualNetworks"
	Subnets           = "Microsoft.Network/virtualNetworks/subnets"
	PublicIPAddresses = "Microsoft.Network/publicIPAddresses"
	LoadBalancers     = "Microsoft.Network/loadBalancers"
	Disks             = "Microsoft.Compute/disks"
	Registries        = "Microsoft.ContainerRegistry/registries"
)

// topLevel are the types addressable at …/providers/{namespace}/{type}/{name}.
var topLevel = [...]string{VirtualNetworks, PublicIPAddresses, LoadBalancers, Disks, Registries}

// LookupType returns the canonical top-level type for a namespace and type
// name in any case, and whether this package serves it.
func LookupType(namespace, name string) (string, bool) {
	want := namespace + "/" + name
	for _, t := range topLevel {
		if strings.EqualFold(t, want) {
			return t, true
		}
	}
	return "", false
}

// Namespace is the provider namespace of a type.
func Namespace(typ string) string { ns, _, _ := strings.Cut(typ, "/"); return ns }

// Resource is one resource as ARM shows it. Properties round-trip what the
// client sent, completed with what the provider computes.
type Resource struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	SKU        map[string]any    `json:"sku,omitempty"`
	Etag       string            `json:"etag,omitempty"`
	Properties map[string]any    `json:"properties"`
}

// Spec is the body of a create-or-update.
type Spec struct {
	Location   string
	Tags       map[string]string
	SKU        map[string]any
	Properties map[string]any
}

// PutRequest creates or updates the resource Name of Type in Sub/Group
// (the group's stored name).
type PutRequest struct {
	Sub, Group, Type, Name string
	Spec                   Spec
}

// Service stores the resources.
type Service struct {
	st    store.Store
	clk   clock.Clock
	newID func() string // GUIDs for etags and resource GUIDs
}

// New returns the service; newID makes the GUIDs etags and resource GUIDs carry.
func New(st store.Store, clk clock.Clock, newID func() string) *Service {
	return &Service{st: st, clk: clk, newID: newID}
}

// ResourceID is the ID of a top-level resource.
func ResourceID(sub, group, typ, name string) string {
	return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/" + typ + "/" + name
}

var (
	networkName  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$`)
	diskName     = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,80}$`)
	registryName = regexp.MustCompile(`^[A-Za-z0-9]{5,50}$`)
)

func checkName(typ, name string) error {
	ok := networkName.MatchString(name)
	rule := "1 to 80 letters, digits, underscores, periods or hyphens, starting with a letter or digit and ending with a letter, digit or underscore"
	switch typ {
	case Disks:
		ok, rule = diskName.MatchString(name), "1 to 80 letters, digits, underscores, periods or hyphens"
	case Registries:
		ok, rule = registryName.MatchString(name), "5 to 50 letters or digits"
	}
	if !ok {
		return azerr.New(azerr.Invalid, "InvalidResourceName", "Resource name '%s' is invalid for type '%s': it must be %s.", name, typ, rule)
	}
	return nil
}

func notFound(id string) error {
	return azerr.ResourceNotFound(typeOf(id), id)
}

// typeOf reads the type out of a top-level resource ID.
func typeOf(id string) string {
	parts := strings.Split(id, "/")
	if len(parts) < 9 {
		return ""
	}
	return parts[6] + "/" + parts[7]
}

// Put creates a resource or replaces its tags, SKU and properties. Its
// location cannot change, and references to other resources (a load
// balancer's public IP, a subnet) must resolve.
func (s *Service) Put(ctx context.Context, req PutRequest) (resources.Upsert[Resource], error) {
	if err := checkName(req.Type, req.Name); err != nil {
		return resources.Upsert[Resource]{}, err
	}
	if strings.TrimSpace(req.Spec.Location) == "" {
		return resources.Upsert[Resource]{}, azerr.New(azerr.Invalid, "LocationRequired", "The location property is required for this definition.")
	}
	loc, err := resources.NormalizeLocation(req.Spec.Location)
	if err != nil {
		return resources.Upsert[Resource]{}, azerr.New(azerr.Invalid, "LocationNotAvailableForResourceType",
			"The provided location '%s' is not available for resource type '%s'. List of available regions for the resource type is '%s'.",
			req.Spec.Location, req.Type, strings.Join(resources.Locations(), ","))
	}
	props := req.Spec.Properties
	if props == nil {
		props = map[string]any{}
	}
	r := Resource{ID: ResourceID(req.Sub, req.Group, req.Type, req.Name), Name: req.Name, Type: req.Type, Location: loc,
		Tags: nonNil(req.Spec.Tags), SKU: req.Spec.SKU, Properties: props}
	created := false
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var prev *Resource
		var cur Resource
		switch err := store.GetJSON(tx, kindResource, strings.ToLower(r.ID), &cur); {
		case errors.Is(err, store.ErrNotFound):
			created = true
		case err != nil:
			return err
		case !strings.EqualFold(cur.Location, loc):
			return azerr.New(azerr.Conflict, "InvalidResourceLocation",
				"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'. Please select a new resource name.",
				req.Name, cur.Location, req.Group, loc)
		default:
			r.ID, r.Name, prev = cur.ID, cur.Name, &cur // IDs keep the case they were created with
		}
		for _, l := range Links(r.Properties) {
			if err := resolve(tx, r.ID, l.ID); err != nil {
				return err
			}
		}
		if err := s.complete(&r, prev); err != nil {
			return err
		}
		return s.save(tx, r)
	})
	return resources.Upsert[Resource]{Value: r, Created: created}, err
}

func (s *Service) save(tx store.Tx, r Resource) error {
	if err := store.PutJSON(tx, kindResource, strings.ToLower(r.ID), r); err != nil {
		return err
	}
	return resources.IndexResource(tx, resources.GenericResource{ID: r.ID, Name: r.Name, Type: r.Type, Location: r.Location, Tags: r.Tags})
}

func nonNil(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}

// Get finds a resource by ID (case-insensitive).
func (s *Service) Get(ctx context.Context, id string) (Resource, error) {
	var r Resource
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		r, err = get(tx, id)
		return err
	})
	return r, err
}

func get(tx store.Tx, id string) (Resource, error) {
	var r Resource
	err := store.GetJSON(tx, kindResource, strings.ToLower(id), &r)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{}, notFound(id)
	}
	return r, err
}

// Delete removes a resource (a virtual network with its subnets).
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		err := tx.Delete(kindResource, strings.ToLower(id))
		if errors.Is(err, store.ErrNotFound) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		return resources.UnindexResource(tx, id)
	})
}

// List returns the resources of typ ("" for all) under scope (a
// subscription or resource group ID), ordered by ID.
func (s *Service) List(ctx context.Context, scope, typ string) ([]Resource, error) {
	out := []Resource{}
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		items, err := store.ListJSON[Resource](tx, kindResource, strings.ToLower(strings.TrimRight(scope, "/"))+"/")
		if err != nil {
			return err
		}
		for _, r := range items {
			if typ == "" || strings.EqualFold(r.Type, typ) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// DeleteUnder removes every resource at or under scope; deleting a
// resource group calls it, since these records are this package's own.
func (s *Service) DeleteUnder(ctx context.Context, scope string) error {
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		at := strings.ToLower(strings.TrimRight(scope, "/"))
		items, err := tx.List(kindResource, at+"/")
		if err != nil {
			return err
		}
		if _, err := tx.Get(kindResource, at); err == nil {
			items = append(items, store.Item{Key: at})
		}
		for _, it := range items {
			if err := tx.Delete(kindResource, it.Key); err != nil {
				return err
			}
			if err := resources.UnindexResource(tx, it.Key); err != nil {
				return err
			}
		}
		return nil
	})
}

// Link is a reference from a resource's properties to another resource,
// which ARM lets the caller make only with Action on ID (LinkedAuthorization).
type Link struct {
	ID     string
	Action string
}

// linkActions are the properties that reference a joinable resource.
var linkActions = map[string]string{
	"subnet":          "Microsoft.Network/virtualNetworks/subnets/join/action",
	"publicIPAddress": "Microsoft.Network/publicIPAddresses/join/action",
}

// Links finds the references in properties: any {"subnet": {"id": …}} or
// {"publicIPAddress": {"id": …}} at any depth, as in a load balancer's
// frontend IP configurations or a NIC's IP configurations.
func Links(props map[string]any) []Link {
	var out []Link
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if action, ok := linkActions[k]; ok {
					if ref, _ := child.(map[string]any); ref != nil {
						if id, _ := ref["id"].(string); id != "" {
							out = append(out, Link{ID: id, Action: action})
							continue
						}
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(props)
	return out
}

// resolve checks a referenced resource exists, as the network provider
// does before it accepts the reference.
func resolve(tx store.Tx, from, ref string) error {
	missing := azerr.New(azerr.Invalid, "InvalidResourceReference",
		"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", ref, from)
	sr, isSubnet := splitSubnetID(ref)
	vnet, subnet := sr.vnetID, sr.name
	if !isSubnet {
		vnet = ref
	}
	r, err := get(tx, vnet)
	if err != nil {
		if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
			return missing
		}
		return err
	}
	if isSubnet && findSubnet(r, subnet) < 0 {
		return missing
	}
	return nil
}
