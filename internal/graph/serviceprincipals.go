package graph

import (
	"context"
	"errors"
	"net/http"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
)

var servicePrincipalEntity = entity{name: "ServicePrincipal", props: props(map[string]propKind{
	"appId": kString, "accountEnabled": kBool, "displayName": kString, "keyCredentials": kArray,
	"passwordCredentials": kArray, "alternativeNames": kStringArray, "appRoleAssignmentRequired": kBool,
	"description": kString, "homepage": kString, "loginUrl": kString, "logoutUrl": kString, "notes": kString,
	"notificationEmailAddresses": kStringArray, "preferredSingleSignOnMode": kString, "replyUrls": kStringArray,
	"samlSingleSignOnSettings": kObject, "tags": kStringArray, "info": kObject, "appDescription": kString,
	"servicePrincipalNames": kReadOnly, "servicePrincipalType": kReadOnly, "appDisplayName": kReadOnly,
	"appOwnerOrganizationId": kReadOnly, "signInAudience": kReadOnly, "appRoles": kReadOnly,
	"oauth2PermissionScopes": kReadOnly, "verifiedPublisher": kReadOnly, "applicationTemplateId": kReadOnly,
	"disabledByMicrosoftStatus": kReadOnly, "addIns": kReadOnly, "resourceSpecificApplicationPermissions": kReadOnly,
	"preferredTokenSigningKeyThumbprint": kReadOnly, "tokenEncryptionKeyId": kReadOnly,
}), typed: map[string]bool{"appId": true, "accountEnabled": true, "displayName": true, "keyCredentials": true,
	"passwordCredentials": true}}

var servicePrincipalSchema = odata.Schema{Type: "servicePrincipal", Props: map[string]odata.Kind{
	"id": odata.String, "appId": odata.String, "displayName": odata.String, "servicePrincipalNames": odata.Strings,
	"accountEnabled": odata.Bool, "servicePrincipalType": odata.String, "appOwnerOrganizationId": odata.String,
	"tags": odata.Strings, "passwordCredentials": odata.Unfilterable, "keyCredentials": odata.Unfilterable,
	"appRoles": odata.Unfilterable, "description": odata.Unfilterable,
}}

func spValues(s directory.ServicePrincipal) odata.Values {
	return odata.Values{"id": s.ObjectID, "appId": s.AppID, "displayName": s.DisplayName,
		"servicePrincipalNames": s.ServicePrincipalNames, "accountEnabled": s.AccountEnabled,
		"servicePrincipalType": s.ServicePrincipalType, "appOwnerOrganizationId": s.AppOwnerTenantID,
		"tags": extraStrings(s.Extra, "tags")}
}

func (h *Handler) listServicePrincipals(c *call) error {
	return list(c, listing[directory.ServicePrincipal]{set: "servicePrincipals", schema: servicePrincipalSchema,
		values: spValues, render: c.spJSON,
		indexed: []string{directory.ByID, directory.ByAppID, directory.ByDisplayName, directory.ByServicePrincipalNames},
		page: func(ctx context.Context, q directory.Query[directory.ServicePrincipal]) (directory.Page[directory.ServicePrincipal], error) {
			return h.dir.ServicePrincipalPage(ctx, c.tenant, q)
		}})
}

// spInput is a decoded create or update body.
type spInput struct {
	directory.ServicePrincipalPatch
	appID *string
}

func decodeServicePrincipal(b body) (spInput, error) {
	e := servicePrincipalEntity
	var in spInput
	extra, err := e.check(b)
	if err != nil {
		return in, err
	}
	in.Extra = extra
	if in.appID, err = e.str(b, "appId"); err != nil {
		return in, err
	}
	if in.DisplayName, err = e.str(b, "displayName"); err != nil {
		return in, err
	}
	if in.AccountEnabled, err = e.boolean(b, "accountEnabled"); err != nil {
		return in, err
	}
	if in.KeyCredentials, err = e.keyCredentials(b); err != nil {
		return in, err
	}
	if n, err := e.strsOfAny(b, "passwordCredentials"); err != nil || n > 0 {
		return in, badRequest("Updates to passwordCredentials are not supported; use addPassword and removePassword.")
	}
	return in, nil
}

func (h *Handler) createServicePrincipal(c *call) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	p, err := decodeServicePrincipal(b)
	if err != nil {
		return err
	}
	if p.appID == nil {
		return servicePrincipalEntity.invalid("appId")
	}
	spec := directory.ServicePrincipalSpec{AppID: *p.appID, AccountEnabled: p.AccountEnabled, Extra: p.Extra, ClientNow: h.wall.Now()}
	if p.DisplayName != nil {
		spec.DisplayName = *p.DisplayName
	}
	if p.KeyCredentials != nil {
		spec.KeyCredentials = *p.KeyCredentials
	}
	sp, err := h.dir.CreateServicePrincipal(c.ctx(), c.tenant, spec)
	if errors.Is(err, directory.ErrConflict) {
		msg, _ := directory.Reason(err)
		return &apiError{http.StatusConflict, codeConflict, msg}
	}
	if err != nil {
		return err
	}
	return c.created("servicePrincipals/"+sp.ObjectID, c.entityJSON("servicePrincipals", c.spJSON(sp)))
}

func (h *Handler) getServicePrincipal(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	sp, err := h.dir.ServicePrincipalByObjectID(c.ctx(), c.tenant, id)
	if err != nil {
		return err
	}
	return c.ok(c.entityJSON("servicePrincipals", c.spJSON(sp)))
}

func (h *Handler) updateServicePrincipal(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	b, err := readBody(c)
	if err != nil {
		return err
	}
	p, err := decodeServicePrincipal(b)
	if err != nil {
		return err
	}
	if p.appID != nil {
		return badRequest("Property 'appId' is read-only and cannot be set.")
	}
	p.ClientNow = h.wall.Now()
	if _, err := h.dir.UpdateServicePrincipal(c.ctx(), c.tenant, id, p.ServicePrincipalPatch); err != nil {
		return err
	}
	return c.noContent()
}

// deleteServicePrincipal removes the principal; its application stays.
func (h *Handler) deleteServicePrincipal(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	if err := h.dir.DeleteServicePrincipal(c.ctx(), c.tenant, id); err != nil {
		return err
	}
	return c.noContent()
}
