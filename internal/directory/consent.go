package directory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// PermissionScope is a delegated permission an application exposes
// (api.oauth2PermissionScopes).
type PermissionScope struct {
	ID                      string `json:"id"`
	Value                   string `json:"value"`
	Type                    string `json:"type"` // User or Admin: who may consent
	AdminConsentDisplayName string `json:"adminConsentDisplayName"`
	AdminConsentDescription string `json:"adminConsentDescription"`
	UserConsentDisplayName  string `json:"userConsentDisplayName"`
	IsEnabled               bool   `json:"isEnabled"`
}

// PermissionScopes returns the delegated permissions the application
// exposes: Microsoft's for Graph, ARM and AKS's server, else its api.oauth2PermissionScopes.
func (a Application) PermissionScopes() []PermissionScope {
	switch a.AppID {
	case MicrosoftGraphApp:
		return graphScopes
	case AzureServiceManagementApp:
		return armScopes
	case AKSServerApp:
		return aksServerScopes
	}
	var api struct {
		Scopes []PermissionScope `json:"oauth2PermissionScopes"`
	}
	if raw, ok := a.Extra["api"]; ok {
		_ = json.Unmarshal(raw, &api)
	}
	return api.Scopes
}

// requiredAccess is one entry of an application's requiredResourceAccess:
// the permissions it asks of one resource application.
type requiredAccess struct {
	ResourceAppID  string `json:"resourceAppId"`
	ResourceAccess []struct {
		ID   string `json:"id"`
		Type string `json:"type"` // Scope (delegated) or Role (application)
	} `json:"resourceAccess"`
}

// AdminConsent grants, for the whole tenant, every permission application
// appID asks for (its requiredResourceAccess), as an administrator's
// consent does: delegated ones as an AllPrincipals grant per resource
// (merged with what was granted before), application ones as app role
// assignments to its service principal. Missing service principals (the
// client's, a resource's) are created, as Entra does on consent.
func (d *Directory) AdminConsent(ctx context.Context, tenantID, appID string) error {
	appID = strings.ToLower(appID)
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		client, err := d.appWithPrincipal(tx, tenantID, appID)
		if err != nil {
			return err
		}
		var required []requiredAccess
		if raw, ok := client.app.Extra["requiredResourceAccess"]; ok {
			if err := json.Unmarshal(raw, &required); err != nil {
				return invalid("The application's requiredResourceAccess cannot be read.")
			}
		}
		for _, ra := range required {
			res, err := d.appWithPrincipal(tx, tenantID, strings.ToLower(ra.ResourceAppID))
			if errors.Is(err, ErrApplicationNotFound) {
				return invalid("The resource application '%s' the application asks permissions of was not found.", ra.ResourceAppID)
			}
			if err != nil {
				return err
			}
			var scopes []string
			exposed := res.app.PermissionScopes()
			for _, acc := range ra.ResourceAccess {
				switch acc.Type {
				case "Scope":
					i := slices.IndexFunc(exposed, func(s PermissionScope) bool { return strings.EqualFold(s.ID, acc.ID) })
					if i < 0 {
						return invalid("Permission '%s' was not found on application '%s'.", acc.ID, res.app.AppID)
					}
					scopes = append(scopes, exposed[i].Value)
				case "Role":
					_, err := d.assignAppRole(tx, tenantID, AppRoleAssignment{PrincipalID: client.sp.ObjectID, ResourceID: res.sp.ObjectID, AppRoleID: acc.ID})
					if reason, _ := Reason(err); err != nil && reason != dupAssignment {
						return err
					}
				default:
					return invalid("Unknown permission type '%s'.", acc.Type)
				}
			}
			if len(scopes) > 0 {
				if err := mergeGrant(tx, PermissionGrant{TenantID: tenantID, ClientID: client.sp.ObjectID, ResourceID: res.sp.ObjectID,
					ConsentType: ConsentAllPrincipals, Scope: strings.Join(scopes, " ")}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

type appAndPrincipal struct {
	app Application
	sp  ServicePrincipal
}

// appWithPrincipal reads application appID and its principal in tenantID,
// creating the principal when it is missing.
func (d *Directory) appWithPrincipal(tx store.Tx, tenantID, appID string) (appAndPrincipal, error) {
	var out appAndPrincipal
	if err := store.GetJSON(tx, kindApp, appID, &out.app); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return out, ErrApplicationNotFound
		}
		return out, err
	}
	err := store.GetJSON(tx, kindSP, tenantID+"/"+appID, &out.sp)
	if errors.Is(err, store.ErrNotFound) {
		out.sp, err = d.addServicePrincipal(tx, tenantID, out.app, d.clk.Now().UTC())
	}
	return out, err
}

// mergeGrant adds g's scopes to the grant for the same client, resource
// and user, or records g when there is none.
func mergeGrant(tx store.Tx, g PermissionGrant) error {
	g.ID = grantID(g)
	key := g.TenantID + "/" + g.ID
	var old PermissionGrant
	err := store.GetJSON(tx, kindGrant, key, &old)
	switch {
	case err == nil:
		scopes := strings.Fields(old.Scope)
		for _, s := range strings.Fields(g.Scope) {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
		old.Scope = strings.Join(scopes, " ")
		g = old
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return store.PutJSON(tx, kindGrant, key, g)
}
