package directory

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// ServicePrincipalSpec describes a principal to create for an application.
type ServicePrincipalSpec struct {
	AppID          string
	AccountEnabled *bool  // nil: enabled
	DisplayName    string // empty: the application's
	KeyCredentials []KeyCredentialSpec
	Extra          Extra
	ClientNow      time.Time // the caller's clock, frame of the key dates
}

// ServicePrincipalPatch changes a service principal; nil fields are left alone.
type ServicePrincipalPatch struct {
	DisplayName    *string
	AccountEnabled *bool
	KeyCredentials *[]KeyCredentialSpec
	Extra          Extra // a JSON null removes the property
	ClientNow      time.Time
}

// CreateServicePrincipal gives an application a principal in tenantID.
// The application must be registered in tenantID, be first-party, or be
// multi-tenant (signInAudience AzureADMultipleOrgs or wider).
func (d *Directory) CreateServicePrincipal(ctx context.Context, tenantID string, spec ServicePrincipalSpec) (ServicePrincipal, error) {
	appID := strings.ToLower(strings.TrimSpace(spec.AppID))
	if appID == "" {
		return ServicePrincipal{}, invalid("Invalid value specified for property 'appId' of resource 'ServicePrincipal'.")
	}
	// Worded as Entra words it: az retries create-for-rbac while the
	// message says " does not reference ".
	noApp := invalid("The appId '%s' of the service principal does not reference a valid application object.", spec.AppID)
	keys, err := d.mergeKeyCredentials(nil, spec.KeyCredentials, spec.ClientNow)
	if err != nil {
		return ServicePrincipal{}, err
	}
	var sp ServicePrincipal
	err = d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		var app Application
		if err := store.GetJSON(tx, kindApp, appID, &app); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return noApp
			}
			return err
		}
		if app.TenantID != tenantID && !app.FirstParty && !multiTenant(app) {
			return noApp
		}
		if _, err := tx.Get(kindSP, tenantID+"/"+appID); err == nil {
			return conflict("The service principal cannot be created, updated, or restored because the service principal name %s is already in use.", appID)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var err error
		sp, err = d.addServicePrincipal(tx, tenantID, app, d.clk.Now().UTC())
		if err != nil {
			return err
		}
		if spec.AccountEnabled != nil {
			sp.AccountEnabled = *spec.AccountEnabled
		}
		if strings.TrimSpace(spec.DisplayName) != "" {
			sp.DisplayName = spec.DisplayName
		}
		if len(keys) > 0 {
			sp.KeyCredentials = keys
		}
		sp.Extra = mergeExtra(nil, spec.Extra)
		return store.PutJSON(tx, kindSP, tenantID+"/"+appID, sp)
	})
	return sp, err
}

func multiTenant(app Application) bool {
	var aud string
	_ = json.Unmarshal(app.Extra["signInAudience"], &aud)
	return aud == "AzureADMultipleOrgs" || aud == "AzureADandPersonalMicrosoftAccount"
}

// ServicePrincipals returns the service principals of tenantID.
func (d *Directory) ServicePrincipals(ctx context.Context, tenantID string) ([]ServicePrincipal, error) {
	var out []ServicePrincipal
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[ServicePrincipal](tx, kindSP, tenantID+"/")
		return err
	})
	return out, err
}

// ServicePrincipalByObjectID finds a principal of tenantID by object ID.
func (d *Directory) ServicePrincipalByObjectID(ctx context.Context, tenantID, objectID string) (ServicePrincipal, error) {
	var sp ServicePrincipal
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		sp, err = spByObject(tx, tenantID, objectID)
		return err
	})
	return sp, err
}

// UpdateServicePrincipal applies p to a principal of tenantID.
func (d *Directory) UpdateServicePrincipal(ctx context.Context, tenantID, objectID string, p ServicePrincipalPatch) (ServicePrincipal, error) {
	if p.DisplayName != nil && strings.TrimSpace(*p.DisplayName) == "" {
		return ServicePrincipal{}, invalid("Invalid value specified for property 'displayName' of resource 'ServicePrincipal'.")
	}
	var out ServicePrincipal
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		sp, err := spByObject(tx, tenantID, objectID)
		if err != nil {
			return err
		}
		if p.DisplayName != nil {
			sp.DisplayName = *p.DisplayName
		}
		if p.AccountEnabled != nil {
			sp.AccountEnabled = *p.AccountEnabled
		}
		if p.KeyCredentials != nil {
			if sp.KeyCredentials, err = d.mergeKeyCredentials(sp.KeyCredentials, *p.KeyCredentials, p.ClientNow); err != nil {
				return err
			}
		}
		sp.Extra = mergeExtra(sp.Extra, p.Extra)
		out = sp
		return store.PutJSON(tx, kindSP, sp.TenantID+"/"+sp.AppID, sp)
	})
	return out, err
}

// DeleteServicePrincipal removes a principal of tenantID and its group
// and role memberships. The application stays, as in Entra.
func (d *Directory) DeleteServicePrincipal(ctx context.Context, tenantID, objectID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		sp, err := spByObject(tx, tenantID, objectID)
		if err != nil {
			return err
		}
		return deletePrincipal(tx, sp)
	})
}

func spByObject(tx store.Tx, tenantID, objectID string) (ServicePrincipal, error) {
	b, err := tx.Get(kindSPObject, tenantID+"/"+strings.ToLower(objectID))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ServicePrincipal{}, ErrPrincipalNotFound
		}
		return ServicePrincipal{}, err
	}
	var sp ServicePrincipal
	if err := store.GetJSON(tx, kindSP, tenantID+"/"+string(b), &sp); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ServicePrincipal{}, ErrPrincipalNotFound
		}
		return ServicePrincipal{}, err
	}
	return sp, nil
}

// principalsOfApp finds appID's principals in every tenant.
func principalsOfApp(tx store.Tx, appID string) ([]ServicePrincipal, error) {
	items, err := tx.Find(kindSP, store.Query{Index: byAppAnyTenant, Terms: []string{term("", appID)}})
	if err != nil {
		return nil, err
	}
	var out []ServicePrincipal
	for _, it := range items {
		var sp ServicePrincipal
		if err := unmarshal(it.Value, &sp); err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

func deletePrincipal(tx store.Tx, sp ServicePrincipal) error {
	if err := tx.Delete(kindSP, sp.TenantID+"/"+sp.AppID); err != nil {
		return err
	}
	if err := deleteIfPresent(tx, kindSPObject, sp.TenantID+"/"+sp.ObjectID); err != nil {
		return err
	}
	return dropEdges(tx, sp.TenantID, sp.ObjectID)
}
