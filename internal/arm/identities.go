package arm

import (
	"context"
	"net/http"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/resources"
)

// Identities is the Microsoft.ManagedIdentity resource provider.
type Identities interface {
	Put(ctx context.Context, tenantID, sub, group, name string, spec msi.Spec) (resources.Upsert[msi.Identity], error)
	Get(ctx context.Context, id string) (msi.Identity, error)
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, scope string) ([]msi.Identity, error)
	PutFederated(ctx context.Context, identityID, name string, p msi.FederatedProperties) (resources.Upsert[msi.Federated], error)
	GetFederated(ctx context.Context, identityID, name string) (msi.Federated, error)
	ListFederated(ctx context.Context, identityID string) ([]msi.Federated, error)
	DeleteFederated(ctx context.Context, identityID, name string) error
}

const (
	miNamespace = "Microsoft.ManagedIdentity"
	actMIRead   = "Microsoft.ManagedIdentity/userAssignedIdentities/read"
	actMIWrite  = "Microsoft.ManagedIdentity/userAssignedIdentities/write"
	actMIDelete = "Microsoft.ManagedIdentity/userAssignedIdentities/delete"
)

// identities serves …/providers/Microsoft.ManagedIdentity/userAssignedIdentities[/{name}]
// at subscription or group scope.
func (h *Handler) identities(c *call) {
	if !h.checkVersion(c, miNamespace, "userAssignedIdentities") {
		return
	}
	ctx := c.r.Context()
	s, ok := h.pathSubscription(c)
	if !ok {
		return
	}
	group, name := "", ""
	if c.low[2] == "resourcegroups" {
		g, ok := h.pathGroup(c, s)
		if !ok {
			return
		}
		group = g.Name
		if len(c.segs) == 8 {
			name = c.segs[7]
		}
	}
	scope := "/subscriptions/" + s
	if group != "" {
		scope += "/resourceGroups/" + group
	}
	if name == "" {
		if c.r.Method != http.MethodGet {
			methodNotAllowed(c)
			return
		}
		list, err := h.msi.List(ctx, scope)
		if err != nil {
			h.fail(c, err)
			return
		}
		writeReadable(h, c, list, fixed[msi.Identity](actMIRead), func(i msi.Identity) string { return i.ID })
		return
	}
	id := "/subscriptions/" + s + "/resourcegroups/" + group + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name
	switch c.r.Method {
	case http.MethodGet:
		if !h.allow(c, actMIRead, id) {
			return
		}
		ident, err := h.msi.Get(ctx, id)
		h.render(c, ident, err)
	case http.MethodPut:
		if !h.allow(c, actMIWrite, id) {
			return
		}
		if ok, err := h.res.ProviderRegistered(ctx, s, miNamespace); err != nil || !ok {
			if err == nil {
				err = azerr.New(azerr.Conflict, "MissingSubscriptionRegistration",
					"The subscription is not registered to use namespace '%s'. See https://aka.ms/rps-not-found for how to register subscriptions.", miNamespace)
			}
			h.fail(c, err)
			return
		}
		var body struct {
			Location string            `json:"location"`
			Tags     map[string]string `json:"tags"`
		}
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		up, err := h.msi.Put(ctx, c.p.TenantID, s, group, name, msi.Spec{Location: body.Location, Tags: body.Tags})
		answerPut(h, c, up, err)
	case http.MethodDelete:
		if !h.allow(c, actMIDelete, id) {
			return
		}
		if err := h.msi.Delete(ctx, id); err != nil {
			if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
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
