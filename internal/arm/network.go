package arm

import (
	"context"

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
	Subnet(ctx context.Context, vnetID, name string) (netres.Subnet, error)
	Subnets(ctx context.Context, vnetID string) ([]netres.Subnet, error)
	PutSubnet(ctx context.Context, vnetID, name string, props map[string]any) (resources.Upsert[netres.Subnet], error)
	DeleteSubnet(ctx context.Context, vnetID, name string) error
}

// networkBody is the create-or-update body of every type (subnets send
// properties only).
type networkBody struct {
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	SKU        map[string]any    `json:"sku"`
	Properties map[string]any    `json:"properties"`
}

// networkID returns the ID function of typ's resources: …/{ns}/{type}/{name} of the path.
func networkID(typ string) func(*call) string {
	return func(c *call) string { return netres.ResourceID(c.subID(), c.group.Name, typ, c.segs[7]) }
}

// vnetID is the path's virtual network, which subnets live under.
func vnetID(c *call) string { return networkID(netres.VirtualNetworks)(c) }

// subnetID is …/virtualNetworks/{v}/subnets/{name} of the path.
func subnetID(c *call) string { return vnetID(c) + "/subnets/" + c.segs[9] }

// unknownNetworkType answers the network namespaces' paths no row serves:
// a type they do not have, or a path too deep for one they have.
func unknownNetworkType(c *call) error {
	if _, ok := netres.LookupType(c.segs[5], c.segs[6]); ok {
		return notFoundPath(c)
	}
	return azerr.New(azerr.NotFound, "InvalidResourceType", "The resource type '%s' could not be found in the namespace '%s' for api version '%s'.",
		c.segs[6], c.segs[5], c.version)
}

// listNetwork serves GET /subscriptions/{s}[/resourceGroups/{g}]/providers/{ns}/{type}.
func (h *Handler) listNetwork(typ string) func(*call) error {
	return func(c *call) error {
		list, err := h.net.List(c.ctx(), listScope(c), typ)
		return readable(h, c, typ+"/read", list, err, func(r netres.Resource) string { return r.ID })
	}
}

func (h *Handler) getNetwork(c *call) error { return c.reply(h.net.Get(c.ctx(), c.id)) }

func (h *Handler) putNetwork(typ string) func(*call) error {
	return func(c *call) error {
		var body networkBody
		if err := h.decodeLinked(c, &body, typ+"/write", netres.Namespace(typ)); err != nil {
			return err
		}
		res, err := h.net.Put(c.ctx(), netres.PutRequest{Sub: c.subID(), Group: c.group.Name, Type: typ, Name: c.segs[7],
			Spec: netres.Spec{Location: body.Location, Tags: body.Tags, SKU: body.SKU, Properties: body.Properties}})
		return answerPut(c, res, err)
	}
}

func (h *Handler) deleteNetwork(c *call) error {
	return c.deleted(h.net.Delete(c.ctx(), c.id), notFound)
}

// listSubnets serves GET …/virtualNetworks/{v}/subnets.
func (h *Handler) listSubnets(c *call) error {
	list, err := h.net.Subnets(c.ctx(), c.id)
	return readable(h, c, netres.Subnets+"/read", list, err, func(sn netres.Subnet) string { return sn.ID })
}

func (h *Handler) getSubnet(c *call) error {
	return c.reply(h.net.Subnet(c.ctx(), vnetID(c), c.segs[9]))
}

func (h *Handler) putSubnet(c *call) error {
	var body networkBody
	if err := h.decodeLinked(c, &body, netres.Subnets+"/write", "Microsoft.Network"); err != nil {
		return err
	}
	res, err := h.net.PutSubnet(c.ctx(), vnetID(c), c.segs[9], body.Properties)
	return answerPut(c, res, err)
}

func (h *Handler) deleteSubnet(c *call) error {
	return c.deleted(h.net.DeleteSubnet(c.ctx(), vnetID(c), c.segs[9]), notFound)
}

// decodeLinked refuses a write in a namespace the subscription has not
// registered, reads the body and checks the caller may join every resource
// it references (a subnet, a public IP), as ARM's linked access check does
// for the write action the router already allowed on c.id.
func (h *Handler) decodeLinked(c *call, body *networkBody, action, ns string) error {
	if err := h.registered(c, ns); err != nil {
		return err
	}
	if err := decode(c, body); err != nil {
		return err
	}
	for _, l := range netres.Links(body.Properties) {
		ok, err := h.authz.Authorize(c.ctx(), c.ids, l.Action, l.ID)
		if err != nil {
			return err
		}
		if !ok {
			return linkedDenied(c.p, action, c.id, l.Action, l.ID)
		}
	}
	return nil
}
