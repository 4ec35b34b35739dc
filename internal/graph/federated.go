package graph

import (
	"strings"

	"github.com/aksid/aksid/internal/directory"
)

// federatedEntity is federatedIdentityCredential as a request body has it.
var federatedEntity = entity{name: "FederatedIdentityCredential", props: props(map[string]propKind{
	"name": kString, "issuer": kString, "subject": kString, "audiences": kStringArray, "description": kString,
	"claimsMatchingExpression": kReadOnly,
}), typed: map[string]bool{"name": true, "issuer": true, "subject": true, "audiences": true, "description": true}}

// federatedIn is a decoded create or update body; nil fields are absent.
type federatedIn struct {
	name, issuer, subject, description *string
	audiences                          *[]string
}

func decodeFederated(b body) (federatedIn, error) {
	e := federatedEntity
	var in federatedIn
	if _, err := e.check(b); err != nil {
		return in, err
	}
	var err error
	for name, dst := range map[string]**string{"name": &in.name, "issuer": &in.issuer, "subject": &in.subject, "description": &in.description} {
		if *dst, err = e.str(b, name); err != nil {
			return in, err
		}
	}
	if in.audiences, err = e.strs(b, "audiences"); err != nil {
		return in, err
	}
	return in, nil
}

func (in federatedIn) apply(fc *directory.FederatedCredential) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&fc.Name, in.name)
	set(&fc.Issuer, in.issuer)
	set(&fc.Subject, in.subject)
	set(&fc.Description, in.description)
	if in.audiences != nil {
		fc.Audiences = *in.audiences
	}
}

func federatedJSON(fc directory.FederatedCredential) obj {
	return obj{"id": fc.ID, "name": fc.Name, "issuer": fc.Issuer, "subject": fc.Subject,
		"audiences": nonNil(fc.Audiences), "description": orNull(fc.Description)}
}

// federatedApp resolves {id}, an application's object ID in the caller's tenant.
func (h *Handler) federatedApp(c *call) (directory.Application, error) {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return directory.Application{}, err
	}
	app, err := h.dir.ApplicationByObjectID(c.ctx(), c.tenant, id)
	if err == nil && app.ManagedIdentity {
		return directory.Application{}, notFound(id)
	}
	return app, err
}

func (c *call) federatedContext(app directory.Application) string {
	return c.context("applications('" + app.ObjectID + "')/federatedIdentityCredentials")
}

func (h *Handler) listFederated(c *call) error {
	app, err := h.federatedApp(c)
	if err != nil {
		return err
	}
	out := []obj{}
	for _, fc := range app.FederatedCredentials {
		out = append(out, federatedJSON(fc))
	}
	return c.ok(obj{"@odata.context": c.federatedContext(app), "value": out})
}

func (h *Handler) createFederated(c *call) error {
	app, err := h.federatedApp(c)
	if err != nil {
		return err
	}
	b, err := readBody(c)
	if err != nil {
		return err
	}
	in, err := decodeFederated(b)
	if err != nil {
		return err
	}
	var fc directory.FederatedCredential
	in.apply(&fc)
	fc, err = h.dir.CreateFederatedCredential(c.ctx(), app.AppID, fc)
	if err != nil {
		return err
	}
	m := federatedJSON(fc)
	m["@odata.context"] = c.federatedContext(app) + "/$entity"
	return c.created("applications/"+app.ObjectID+"/federatedIdentityCredentials/"+fc.ID, m)
}

func (h *Handler) getFederated(c *call) error {
	app, err := h.federatedApp(c)
	if err != nil {
		return err
	}
	ref := c.r.PathValue("fic")
	for _, fc := range app.FederatedCredentials {
		if strings.EqualFold(fc.ID, ref) || strings.EqualFold(fc.Name, ref) {
			m := federatedJSON(fc)
			m["@odata.context"] = c.federatedContext(app) + "/$entity"
			return c.ok(m)
		}
	}
	return notFound(ref)
}

func (h *Handler) updateFederated(c *call) error {
	app, err := h.federatedApp(c)
	if err != nil {
		return err
	}
	b, err := readBody(c)
	if err != nil {
		return err
	}
	in, err := decodeFederated(b)
	if err != nil {
		return err
	}
	if _, err := h.dir.UpdateFederatedCredential(c.ctx(), app.AppID, c.r.PathValue("fic"), in.apply); err != nil {
		return err
	}
	return c.noContent()
}

func (h *Handler) deleteFederated(c *call) error {
	app, err := h.federatedApp(c)
	if err != nil {
		return err
	}
	if err := h.dir.DeleteFederatedCredential(c.ctx(), app.AppID, c.r.PathValue("fic")); err != nil {
		return err
	}
	return c.noContent()
}
