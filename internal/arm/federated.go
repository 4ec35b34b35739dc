package arm

import (
	"net/http"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/msi"
)

const (
	actFICRead   = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
	actFICWrite  = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"
	actFICDelete = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete"
)

// federatedCredentials serves …/userAssignedIdentities/{name}/federatedIdentityCredentials[/{fic}].
func (h *Handler) federatedCredentials(c *call) {
	if !h.checkVersion(c, miNamespace, "userAssignedIdentities/federatedIdentityCredentials") {
		return
	}
	ctx := c.r.Context()
	s, ok := h.pathSubscription(c)
	if !ok {
		return
	}
	g, ok := h.pathGroup(c, s)
	if !ok {
		return
	}
	identityID := "/subscriptions/" + s + "/resourcegroups/" + g.Name + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + c.segs[7]
	if len(c.segs) == 9 {
		if c.r.Method != http.MethodGet {
			methodNotAllowed(c)
			return
		}
		list, err := h.msi.ListFederated(ctx, identityID)
		if err != nil {
			h.fail(c, err)
			return
		}
		writeReadable(h, c, list, fixed[msi.Federated](actFICRead), func(f msi.Federated) string { return f.ID })
		return
	}
	name := c.segs[9]
	id := identityID + "/federatedIdentityCredentials/" + name
	switch c.r.Method {
	case http.MethodGet:
		if !h.allow(c, actFICRead, id) {
			return
		}
		f, err := h.msi.GetFederated(ctx, identityID, name)
		h.render(c, f, err)
	case http.MethodPut:
		if !h.allow(c, actFICWrite, id) {
			return
		}
		var body struct {
			Properties *msi.FederatedProperties `json:"properties"`
		}
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		if body.Properties == nil {
			h.fail(c, azerr.New(azerr.Invalid, "BadRequest", "The request body must contain 'properties' with 'issuer', 'subject' and 'audiences'."))
			return
		}
		up, err := h.msi.PutFederated(ctx, identityID, name, *body.Properties)
		answerPut(h, c, up, err)
	case http.MethodDelete:
		if !h.allow(c, actFICDelete, id) {
			return
		}
		if err := h.msi.DeleteFederated(ctx, identityID, name); err != nil {
			if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound && e.Code == "ResourceNotFound" {
				c.w.WriteHeader(http.StatusNoContent)
				return
			}
			h.fail(c, err)
			return
		}
		c.w.WriteHeader(http.StatusOK)
	default:
		methodNotAllowed(c)
	}
}
