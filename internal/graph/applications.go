package graph

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
	"github.com/google/uuid"
)

// readOnly are properties clients may send back unchanged on any object.
var readOnly = []string{"id", "@odata.type", "@odata.context", "@odata.id", "deletedDateTime", "createdDateTime"}

func props(kinds map[string]propKind) map[string]propKind {
	for _, p := range readOnly {
		if _, ok := kinds[p]; !ok {
			kinds[p] = kReadOnly
		}
	}
	return kinds
}

var applicationEntity = entity{name: "Application", props: props(map[string]propKind{
	"displayName": kString, "identifierUris": kStringArray, "isFallbackPublicClient": kBool,
	"keyCredentials": kArray, "passwordCredentials": kArray, "api": kObject,
	"addIns": kArray, "appRoles": kArray, "description": kString, "groupMembershipClaims": kString, "info": kObject,
	"isDeviceOnlyAuthSupported": kBool, "notes": kString, "oauth2RequirePostResponse": kBool, "optionalClaims": kObject,
	"parentalControlSettings": kObject, "publicClient": kObject, "requiredResourceAccess": kArray,
	"serviceManagementReference": kString, "signInAudience": kString, "spa": kObject, "tags": kStringArray,
	"tokenEncryptionKeyId": kString, "web": kObject, "defaultRedirectUri": kString, "samlMetadataUrl": kString,
	"servicePrincipalLockConfiguration": kObject, "requestSignatureVerification": kObject,
	"appId": kReadOnly, "publisherDomain": kReadOnly, "applicationTemplateId": kReadOnly, "certification": kReadOnly,
	"disabledByMicrosoftStatus": kReadOnly, "verifiedPublisher": kReadOnly,
}), typed: map[string]bool{"displayName": true, "identifierUris": true, "isFallbackPublicClient": true,
	"keyCredentials": true, "passwordCredentials": true}}

var applicationSchema = odata.Schema{Type: "application", Props: map[string]odata.Kind{
	"id": odata.String, "appId": odata.String, "displayName": odata.String, "identifierUris": odata.Strings,
	"publisherDomain": odata.String, "signInAudience": odata.String, "tags": odata.Strings,
	"createdDateTime": odata.Unfilterable, "passwordCredentials": odata.Unfilterable, "keyCredentials": odata.Unfilterable,
	"web": odata.Unfilterable, "api": odata.Unfilterable, "appRoles": odata.Unfilterable, "description": odata.Unfilterable,
}}

var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

// decodeApplication turns a create or update body into a patch.
func decodeApplication(b body) (directory.ApplicationPatch, error) {
	e := applicationEntity
	var p directory.ApplicationPatch
	extra, err := e.check(b)
	if err != nil {
		return p, err
	}
	p.Extra = extra
	if p.DisplayName, err = e.str(b, "displayName"); err != nil {
		return p, err
	}
	if p.IdentifierURIs, err = e.strs(b, "identifierUris"); err != nil {
		return p, err
	}
	if p.PublicClient, err = e.boolean(b, "isFallbackPublicClient"); err != nil {
		return p, err
	}
	if p.KeyCredentials, err = e.keyCredentials(b); err != nil {
		return p, err
	}
	// Secrets are added only through addPassword, as in Graph.
	if pw, err := e.strsOfAny(b, "passwordCredentials"); err != nil || pw > 0 {
		return p, badRequest("Updates to passwordCredentials are not supported; use addPassword and removePassword.")
	}
	if raw, ok := b["signInAudience"]; ok && string(raw) != "null" {
		var aud string
		if json.Unmarshal(raw, &aud) != nil || !slices.Contains(signInAudiences, aud) {
			return p, e.invalid("signInAudience")
		}
	}
	if raw, ok := b["api"]; ok {
		var api struct {
			Version *int `json:"requestedAccessTokenVersion"`
		}
		if string(raw) != "null" && json.Unmarshal(raw, &api) != nil {
			return p, e.invalid("api")
		}
		v := 0
		if api.Version != nil {
			v = *api.Version
		}
		p.AccessTokenAcceptedVersion = &v
	}
	return p, nil
}

// strsOfAny counts the elements of an array property (0 when absent).
func (e entity) strsOfAny(b body, name string) (int, error) {
	raw, ok := b[name]
	if !ok || string(raw) == "null" {
		return 0, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return 0, e.invalid(name)
	}
	return len(items), nil
}

func appValues(a directory.Application) odata.Values {
	return odata.Values{"id": a.ObjectID, "appId": a.AppID, "displayName": a.DisplayName,
		"identifierUris": a.IdentifierURIs, "signInAudience": extraStringOr(a.Extra, "signInAudience", "AzureADMyOrg"),
		"tags": extraStrings(a.Extra, "tags")}
}

func extraStringOr(e directory.Extra, name, def string) any {
	if v := extraString(e, name); v != nil {
		return v
	}
	return def
}

// checkID refuses a malformed object ID before any lookup, as Graph does.
func checkID(id string) error {
	if u, err := uuid.Parse(id); err != nil || len(id) != 36 || u == uuid.Nil {
		return badRequest("Invalid object identifier '" + id + "'.")
	}
	return nil
}

func (h *Handler) listApplications(c *call) error {
	return list(c, listing[directory.Application]{set: "applications", schema: applicationSchema,
		values: appValues, render: c.appJSON,
		indexed: []string{directory.ByID, directory.ByAppID, directory.ByDisplayName, directory.ByIdentifierURIs},
		page: func(ctx context.Context, q directory.Query[directory.Application]) (directory.Page[directory.Application], error) {
			return h.dir.ApplicationPage(ctx, c.tenant, q)
		}})
}

func (h *Handler) createApplication(c *call) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	p, err := decodeApplication(b)
	if err != nil {
		return err
	}
	if p.DisplayName == nil {
		return applicationEntity.invalid("displayName")
	}
	spec := directory.ApplicationSpec{DisplayName: *p.DisplayName, Extra: p.Extra, ClientNow: h.wall.Now(), Creator: c.p.ObjectID}
	if p.IdentifierURIs != nil {
		spec.IdentifierURIs = *p.IdentifierURIs
	}
	if p.PublicClient != nil {
		spec.PublicClient = *p.PublicClient
	}
	if p.AccessTokenAcceptedVersion != nil {
		spec.AccessTokenAcceptedVersion = *p.AccessTokenAcceptedVersion
	}
	if p.KeyCredentials != nil {
		spec.KeyCredentials = *p.KeyCredentials
	}
	app, err := h.dir.RegisterApplication(c.ctx(), c.tenant, spec)
	if err != nil {
		return err
	}
	return c.created("applications/"+app.ObjectID, c.entityJSON("applications", c.appJSON(app)))
}

func (h *Handler) getApplication(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	app, err := h.dir.ApplicationByObjectID(c.ctx(), c.tenant, id)
	if err != nil {
		return err
	}
	return c.ok(c.entityJSON("applications", c.appJSON(app)))
}

func (h *Handler) updateApplication(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	b, err := readBody(c)
	if err != nil {
		return err
	}
	p, err := decodeApplication(b)
	if err != nil {
		return err
	}
	p.ClientNow = h.wall.Now()
	if _, err := h.dir.UpdateApplication(c.ctx(), c.tenant, id, p); err != nil {
		return err
	}
	return c.noContent()
}

func (h *Handler) deleteApplication(c *call) error {
	id := c.r.PathValue("id")
	if err := checkID(id); err != nil {
		return err
	}
	if err := h.dir.DeleteApplication(c.ctx(), c.tenant, id); err != nil {
		return err
	}
	return c.noContent()
}

// passwordIn is addPassword's passwordCredential.
type passwordIn struct {
	OdataType           string     `json:"@odata.type"`
	CustomKeyIdentifier *string    `json:"customKeyIdentifier"`
	DisplayName         *string    `json:"displayName"`
	EndDateTime         *time.Time `json:"endDateTime"`
	StartDateTime       *time.Time `json:"startDateTime"`
	Hint                *string    `json:"hint"`
	KeyID               *string    `json:"keyId"`
	SecretText          *string    `json:"secretText"`
}

// addPassword adds a generated secret; the answer is the only time the
// secret is shown. Dates az sends are on its clock and move into aksid's.
func (h *Handler) addPassword(objectType string) func(*call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := checkID(id); err != nil {
			return err
		}
		b, err := readBody(c)
		if err != nil {
			return err
		}
		var in struct {
			PasswordCredential *passwordIn `json:"passwordCredential"`
		}
		raw, _ := json.Marshal(b)
		if err := strictDecode(raw, &in); err != nil {
			return badRequest("Invalid value specified for property 'passwordCredential' of resource 'PasswordCredential'.")
		}
		spec := directory.PasswordSpec{ClientNow: h.wall.Now()}
		if pc := in.PasswordCredential; pc != nil {
			if pc.DisplayName != nil {
				spec.DisplayName = *pc.DisplayName
			}
			if pc.StartDateTime != nil {
				spec.Start = *pc.StartDateTime
			}
			if pc.EndDateTime != nil {
				spec.End = *pc.EndDateTime
			}
		}
		added, err := h.dir.AddPasswordTo(c.ctx(), c.tenant, objectType, id, spec)
		if err != nil {
			return err
		}
		m := passwordJSON(added.Credential, added.Secret)
		m["@odata.context"] = c.context("microsoft.graph.passwordCredential")
		return c.ok(m)
	}
}

func (h *Handler) removePassword(objectType string) func(*call) error {
	return func(c *call) error {
		id := c.r.PathValue("id")
		if err := checkID(id); err != nil {
			return err
		}
		ref, err := keyRefBody(c)
		if err != nil {
			return err
		}
		if err := h.dir.RemovePassword(c.ctx(), c.tenant, objectType, id, ref.KeyID); err != nil {
			return err
		}
		return c.noContent()
	}
}

// keyRef is removePassword's and removeKey's body.
type keyRef struct {
	KeyID string `json:"keyId"`
	Proof string `json:"proof"` // removeKey only
}

func keyRefBody(c *call) (keyRef, error) {
	b, err := readBody(c)
	if err != nil {
		return keyRef{}, err
	}
	var in keyRef
	raw, _ := json.Marshal(b)
	if err := strictDecode(raw, &in); err != nil {
		return keyRef{}, errPayload
	}
	if _, err := uuid.Parse(in.KeyID); err != nil || len(in.KeyID) != 36 {
		return keyRef{}, badRequest("Invalid value specified for property 'keyId' of resource 'KeyCredential'.")
	}
	return in, nil
}
