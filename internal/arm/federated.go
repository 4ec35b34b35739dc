package arm

import (
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/msi"
)

// federatedID is …/userAssignedIdentities/{name}/federatedIdentityCredentials/{fic} of the path.
func federatedID(c *call) string {
	return identityID(c) + "/federatedIdentityCredentials/" + c.segs[9]
}

func (h *Handler) listFederated(c *call) error {
	list, err := h.msi.ListFederated(c.ctx(), identityID(c))
	return readable(h, c, actFICRead, list, err, func(f msi.Federated) string { return f.ID })
}

func (h *Handler) getFederated(c *call) error {
	return c.reply(h.msi.GetFederated(c.ctx(), identityID(c), c.segs[9]))
}

func (h *Handler) putFederated(c *call) error {
	var body struct {
		Properties *msi.FederatedProperties `json:"properties"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Properties == nil {
		return azerr.New(azerr.Invalid, "BadRequest", "The request body must contain 'properties' with 'issuer', 'subject' and 'audiences'.")
	}
	up, err := h.msi.PutFederated(c.ctx(), identityID(c), c.segs[9], *body.Properties)
	return answerPut(c, up, err)
}

// deleteFederated answers 204 for a credential that is not there, but 404
// for an identity that is not.
func (h *Handler) deleteFederated(c *call) error {
	return c.deleted(h.msi.DeleteFederated(c.ctx(), identityID(c), c.segs[9]), func(e *azerr.Error) bool {
		return e.Kind == azerr.NotFound && e.Code == "ResourceNotFound"
	})
}
