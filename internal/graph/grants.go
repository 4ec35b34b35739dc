package graph

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
)

// Delegated permission grants (oAuth2PermissionGrants), as `az ad app
// permission grant` and `list-grants` call them.

var grantWriters = []string{"DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"}

var grantEntity = entity{name: "OAuth2PermissionGrant", props: map[string]propKind{
	"clientId": kString, "consentType": kString, "principalId": kString, "resourceId": kString, "scope": kString,
	"id": kReadOnly, "startTime": kReadOnly, "expiryTime": kReadOnly,
}}

var grantSchema = odata.Schema{Type: "oAuth2PermissionGrant", Props: map[string]odata.Kind{
	"id": odata.String, "clientId": odata.String, "consentType": odata.String, "principalId": odata.String,
	"resourceId": odata.String,
}}

// grantValues filters on what Graph renders.
func grantValues(g directory.PermissionGrant) odata.Values { return odata.Values(grantJSON(g)) }

func grantJSON(g directory.PermissionGrant) obj {
	var principal any
	if g.PrincipalID != "" {
		principal = g.PrincipalID
	}
	return obj{"id": g.ID, "clientId": g.ClientID, "consentType": g.ConsentType, "principalId": principal,
		"resourceId": g.ResourceID, "scope": g.Scope}
}

// nullableStr reads a string property that may be null or absent (both "").
func (e entity) nullableStr(b body, name string) (string, error) {
	raw, ok := b[name]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", e.invalid(name)
	}
	return s, nil
}

func (h *Handler) listGrants(c *call) error {
	gs, err := h.dir.PermissionGrants(c.ctx(), c.tenant)
	if err != nil {
		return err
	}
	return c.grants(gs)
}

func (c *call) grants(gs []directory.PermissionGrant) error {
	return list(c, listing[directory.PermissionGrant]{set: "oauth2PermissionGrants", schema: grantSchema,
		values: grantValues, render: grantJSON, page: pageOf(gs)})
}

// spGrants answers GET /servicePrincipals/{id}/oauth2PermissionGrants: the
// grants the principal holds as a client.
func (h *Handler) spGrants(c *call) error {
	id, err := h.principal(c, "servicePrincipals")
	if err != nil {
		return err
	}
	all, err := h.dir.PermissionGrants(c.ctx(), c.tenant)
	if err != nil {
		return err
	}
	var gs []directory.PermissionGrant
	for _, g := range all {
		if g.ClientID == id {
			gs = append(gs, g)
		}
	}
	return c.grants(gs)
}

func (h *Handler) createGrant(c *call) error {
	e := grantEntity
	b, err := readBody(c)
	if err != nil {
		return err
	}
	if _, err := e.check(b); err != nil {
		return err
	}
	var g directory.PermissionGrant
	for _, f := range []struct {
		name string
		to   *string
	}{{"clientId", &g.ClientID}, {"consentType", &g.ConsentType}, {"principalId", &g.PrincipalID},
		{"resourceId", &g.ResourceID}, {"scope", &g.Scope}} {
		if *f.to, err = e.nullableStr(b, f.name); err != nil {
			return err
		}
	}
	for _, req := range []struct{ name, v string }{{"clientId", g.ClientID}, {"resourceId", g.ResourceID}, {"consentType", g.ConsentType}} {
		if req.v == "" {
			return e.invalid(req.name)
		}
	}
	g, err = h.dir.CreatePermissionGrant(c.ctx(), c.tenant, g)
	if errors.Is(err, directory.ErrConflict) {
		msg, _ := directory.Reason(err)
		return &apiError{http.StatusConflict, codeConflict, msg}
	}
	if err != nil {
		return err
	}
	m := grantJSON(g)
	m["@odata.context"] = c.context("oauth2PermissionGrants/$entity")
	return c.created("oauth2PermissionGrants/"+g.ID, m)
}

func (h *Handler) getGrant(c *call) error {
	g, err := h.dir.PermissionGrant(c.ctx(), c.tenant, c.r.PathValue("id"))
	if err != nil {
		return err
	}
	m := grantJSON(g)
	m["@odata.context"] = c.context("oauth2PermissionGrants/$entity")
	return c.ok(m)
}

// updateGrant takes a new scope, the one property Graph lets change.
func (h *Handler) updateGrant(c *call) error {
	e := entity{name: grantEntity.name, props: map[string]propKind{"scope": kString}}
	b, err := readBody(c)
	if err != nil {
		return err
	}
	if _, err := e.check(b); err != nil {
		return err
	}
	scope, err := e.nullableStr(b, "scope")
	if err != nil {
		return err
	}
	if err := h.dir.UpdatePermissionGrantScope(c.ctx(), c.tenant, c.r.PathValue("id"), scope); err != nil {
		return err
	}
	return c.noContent()
}

func (h *Handler) deleteGrant(c *call) error {
	if err := h.dir.DeletePermissionGrant(c.ctx(), c.tenant, c.r.PathValue("id")); err != nil {
		return err
	}
	return c.noContent()
}
