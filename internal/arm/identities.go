package arm

import (
	"context"

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

// identityID is …/userAssignedIdentities/{name} of the path.
func identityID(c *call) string {
	return inGroup(c, "Microsoft.ManagedIdentity/userAssignedIdentities")
}

// listIdentities serves …/userAssignedIdentities at subscription or group scope.
func (h *Handler) listIdentities(c *call) error {
	list, err := h.msi.List(c.ctx(), listScope(c))
	return readable(h, c, actMIRead, list, err, func(i msi.Identity) string { return i.ID })
}

func (h *Handler) getIdentity(c *call) error {
	return c.reply(h.msi.Get(c.ctx(), c.id))
}

func (h *Handler) putIdentity(c *call) error {
	if err := h.registered(c, miNamespace); err != nil {
		return err
	}
	var body struct {
		Location string            `json:"location"`
		Tags     map[string]string `json:"tags"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	up, err := h.msi.Put(c.ctx(), c.p.TenantID, c.subID(), c.group.Name, c.segs[7], msi.Spec{Location: body.Location, Tags: body.Tags})
	return answerPut(c, up, err)
}

func (h *Handler) deleteIdentity(c *call) error {
	return c.deleted(h.msi.Delete(c.ctx(), c.id), notFound)
}
