package graph

import "github.com/aksid/aksid/internal/directory"

// ownedTypes are the object types each path root's owners belong to.
var ownedTypes = map[string]string{"applications": directory.TypeApplication,
	"servicePrincipals": directory.TypeServicePrincipal, "groups": directory.TypeGroup}

// listOwners answers GET /{root}/{id}/owners (az ad app|sp|group owner list).
func (h *Handler) listOwners(root string) func(*call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := checkID(id); err != nil {
			return err
		}
		owners, err := h.dir.Owners(c.ctx(), c.tenant, ownedTypes[root], id)
		if err != nil {
			return err
		}
		return c.objects(owners)
	}
}

// addOwner answers POST /{root}/{id}/owners/$ref with the owner's
// @odata.id, as az ad app|group owner add sends it.
func (h *Handler) addOwner(root string) func(*call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := checkID(id); err != nil {
			return err
		}
		owner, err := refBody(c, "owners")
		if err != nil {
			return err
		}
		if err := h.dir.AddOwner(c.ctx(), c.tenant, ownedTypes[root], id, owner); err != nil {
			return err
		}
		return c.noContent()
	}
}

// removeOwner answers DELETE …/owners/{owner}/$ref and
// DELETE …/owners/$ref?$id={url}.
func (h *Handler) removeOwner(root string) func(*call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := checkID(id); err != nil {
			return err
		}
		owner, err := refTarget(c, "owner", "owners")
		if err != nil {
			return err
		}
		if err := h.dir.RemoveOwner(c.ctx(), c.tenant, ownedTypes[root], id, owner); err != nil {
			return err
		}
		return c.noContent()
	}
}

// ownedObjects answers GET /{root}/{id}/ownedObjects.
func (h *Handler) ownedObjects(root string) func(*call) error {
	return func(c *call) error {
		id, err := h.principal(c, root)
		if err != nil {
			return err
		}
		return h.renderOwned(c, id)
	}
}

// meOwnedObjects answers GET /me/ownedObjects (az ad signed-in-user
// list-owned-objects).
func (h *Handler) meOwnedObjects(c *call) error {
	if c.p.Type == "app" {
		return badRequestCode("BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	return h.renderOwned(c, c.p.ObjectID)
}

func (h *Handler) renderOwned(c *call, id string) error {
	objs, err := h.dir.OwnedObjects(c.ctx(), c.tenant, id)
	if err != nil {
		return err
	}
	return c.objects(objs)
}
