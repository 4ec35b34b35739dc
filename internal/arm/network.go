package arm

import (
	"context"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/netres"
	"github.com/aksid/aksid/internal/resources"
)

// Network is the minimal Microsoft.Network, Microsoft.Compute (disks) and
// Microsoft.ContainerRegistry provider a cluster's cloud provider acts on.
type Network interface {
	Put(ctx context.Context, req netres.PutRequest) (resources.Upsert[netres.Resource], error)
	Get(ctx context.Context, id string) (netres.Resource, error)
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, scope, typ string) ([]netres.Resource, error)
	DeleteUnder(ctx context.Context, scope string) error
	Subnet(ctx context.Context, vnetID, name string) (netres.Subnet, error)
	Subnets(ctx context.Context, vnetID string) ([]netres.Subnet, error)
	PutSubnet(ctx context.Context, vnetID, name string, props map[string]any) (resources.Upsert[netres.Subnet], error)
	DeleteSubnet(ctx context.Context, vnetID, name string) error
}

// networkNamespace tells whether a provider namespace is one of the
// minimal network, compute and registry providers the cluster checks use.
func networkNamespace(ns string) bool {
	switch ns {
	case "microsoft.network", "microsoft.compute", "microsoft.containerregistry":
		return true
	}
	return false
}

// networkType tells whether namespace/type is one of those providers' types.
func networkType(ns, typ string) bool {
	_, ok := netres.LookupType(ns, typ)
	return ok
}

// networkBody is the create-or-update body of every type (subnets send
// properties only).
type networkBody struct {
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	SKU        map[string]any    `json:"sku"`
	Properties map[string]any    `json:"properties"`
}

// networkResources serves /subscriptions/{s}/providers/{ns}/{type} (list)
// and /subscriptions/{s}/resourceGroups/{g}/providers/{ns}/{type}[/{name}
// [/subnets[/{subnet}]]].
func (h *Handler) networkResources(c *call) {
	atSub := c.low[2] == "providers"
	nsAt := 5
	if atSub {
		nsAt = 3
	}
	n := len(c.segs)
	subnets := !atSub && n >= 9 && c.low[8] == "subnets"
	typ, ok := netres.LookupType(c.segs[nsAt], c.segs[nsAt+1])
	if !ok {
		writeError(c.w, azerr.New(azerr.NotFound, "InvalidResourceType", "The resource type '%s' could not be found in the namespace '%s' for api version '%s'.",
			c.segs[nsAt+1], c.segs[nsAt], c.version))
		return
	}
	if (subnets && typ != netres.VirtualNetworks) || (!subnets && n > 8) || n > 10 {
		writeError(c.w, notFoundPath(c))
		return
	}
	ns, typeName := netres.Namespace(typ), strings.TrimPrefix(typ, netres.Namespace(typ)+"/")
	if subnets {
		typeName += "/subnets"
	}
	if !h.checkVersion(c, ns, typeName) {
		return
	}
	ctx := c.r.Context()
	s, ok := h.pathSubscription(c)
	if !ok {
		return
	}
	if atSub {
		h.listNetwork(c, "/subscriptions/"+s, typ)
		return
	}
	g, ok := h.pathGroup(c, s)
	if !ok {
		return
	}
	if n == 7 {
		h.listNetwork(c, g.ID, typ)
		return
	}
	id := netres.ResourceID(s, g.Name, typ, c.segs[7])
	if subnets {
		h.subnets(c, s, id)
		return
	}
	switch c.r.Method {
	case http.MethodGet:
		if !h.allow(c, typ+"/read", id) {
			return
		}
		r, err := h.net.Get(ctx, id)
		h.render(c, r, err)
	case http.MethodPut:
		var body networkBody
		if !h.allow(c, typ+"/write", id) || !h.registered(c, s, ns) || !h.decodeLinked(c, &body, typ+"/write", id) {
			return
		}
		res, err := h.net.Put(ctx, netres.PutRequest{Sub: s, Group: g.Name, Type: typ, Name: c.segs[7],
			Spec: netres.Spec{Location: body.Location, Tags: body.Tags, SKU: body.SKU, Properties: body.Properties}})
		answerPut(h, c, res, err)
	case http.MethodDelete:
		if !h.allow(c, typ+"/delete", id) {
			return
		}
		h.deleted(c, h.net.Delete(ctx, id))
	default:
		methodNotAllowed(c)
	}
}

// subnets serves …/virtualNetworks/{v}/subnets[/{name}].
func (h *Handler) subnets(c *call, sub, vnetID string) {
	ctx := c.r.Context()
	if len(c.segs) == 9 {
		if c.r.Method != http.MethodGet {
			methodNotAllowed(c)
			return
		}
		list, err := h.net.Subnets(ctx, vnetID)
		if err != nil {
			h.fail(c, err)
			return
		}
		writeReadable(h, c, list, fixed[netres.Subnet](netres.Subnets+"/read"), func(sn netres.Subnet) string { return sn.ID })
		return
	}
	name := c.segs[9]
	id := vnetID + "/subnets/" + name
	switch c.r.Method {
	case http.MethodGet:
		if !h.allow(c, netres.Subnets+"/read", id) {
			return
		}
		sn, err := h.net.Subnet(ctx, vnetID, name)
		h.render(c, sn, err)
	case http.MethodPut:
		var body networkBody
		if !h.allow(c, netres.Subnets+"/write", id) || !h.registered(c, sub, "Microsoft.Network") ||
			!h.decodeLinked(c, &body, netres.Subnets+"/write", id) {
			return
		}
		res, err := h.net.PutSubnet(ctx, vnetID, name, body.Properties)
		answerPut(h, c, res, err)
	case http.MethodDelete:
		if !h.allow(c, netres.Subnets+"/delete", id) {
			return
		}
		h.deleted(c, h.net.DeleteSubnet(ctx, vnetID, name))
	default:
		methodNotAllowed(c)
	}
}

func (h *Handler) listNetwork(c *call, scope, typ string) {
	if c.r.Method != http.MethodGet {
		methodNotAllowed(c)
		return
	}
	list, err := h.net.List(c.r.Context(), scope, typ)
	if err != nil {
		h.fail(c, err)
		return
	}
	writeReadable(h, c, list, fixed[netres.Resource](typ+"/read"), func(r netres.Resource) string { return r.ID })
}

// registered refuses a write in a namespace the subscription has not registered.
func (h *Handler) registered(c *call, sub, ns string) bool {
	ok, err := h.res.ProviderRegistered(c.r.Context(), sub, ns)
	if err == nil && !ok {
		err = azerr.New(azerr.Conflict, "MissingSubscriptionRegistration",
			"The subscription is not registered to use namespace '%s'. See https://aka.ms/rps-not-found for how to register subscriptions.", ns)
	}
	if err != nil {
		h.fail(c, err)
		return false
	}
	return true
}

// decodeLinked reads the body and checks the caller may join every
// resource it references (a subnet, a public IP), as ARM's linked access
// check does for the write it already allowed.
func (h *Handler) decodeLinked(c *call, body *networkBody, action, scope string) bool {
	if err := decode(c, body); err != nil {
		h.fail(c, err)
		return false
	}
	for _, l := range netres.Links(body.Properties) {
		ok, err := h.authz.Authorize(c.r.Context(), c.ids, l.Action, l.ID)
		if err != nil {
			h.fail(c, err)
			return false
		}
		if !ok {
			writeError(c.w, linkedDenied(c.p, action, scope, l.Action, l.ID))
			return false
		}
	}
	return true
}

// linkedDenied is ARM's refusal for a reference the caller may not join.
func linkedDenied(p authn.Principal, action, scope, linkedAction, linkedScope string) *azerr.Error {
	client := p.ObjectID
	if p.UPN != "" {
		client = p.UPN
	}
	return azerr.New(azerr.Forbidden, "LinkedAuthorizationFailed",
		"The client '%s' with object id '%s' has permission to perform action '%s' on scope '%s'; however, it does not have permission to perform action(s) '%s' on the linked scope(s) '%s' (respectively) or the linked scope(s) are invalid.",
		client, p.ObjectID, action, scope, linkedAction, linkedScope)
}

// answerPut answers a create-or-update: 201 when it created, else 200.
func answerPut[T any](h *Handler, c *call, up resources.Upsert[T], err error) {
	if err != nil {
		h.fail(c, err)
		return
	}
	status := http.StatusOK
	if up.Created {
		status = http.StatusCreated
	}
	writeJSON(c.w, status, up.Value)
}

// deleted answers a delete: 200, or 204 when there was nothing to delete.
func (h *Handler) deleted(c *call, err error) {
	if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
		c.w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.w.WriteHeader(http.StatusOK)
}
