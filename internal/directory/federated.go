package directory

import (
	"context"
	"net/url"
	"strings"
)

// FederatedCredential trusts tokens of an outside issuer (a cluster's
// service-account tokens, a CI system's) as the application's or managed
// identity's credential: a token whose iss, sub and aud match signs the
// client in. Entra matches issuer and subject case-sensitively.
type FederatedCredential struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Issuer      string   `json:"issuer"`
	Subject     string   `json:"subject"`
	Audiences   []string `json:"audiences"`
	Description string   `json:"description,omitempty"`
}

// Limits Entra sets on federated identity credentials.
const (
	MaxFederatedCredentials = 20
	maxFICField             = 600
	// DefaultFederatedAudience is the audience Entra recommends and
	// clients request for workload identity.
	DefaultFederatedAudience = "api://AzureADTokenExchange"
)

// validateFederated checks a credential's fields with Graph's wording.
func validateFederated(fc FederatedCredential) error {
	if strings.TrimSpace(fc.Name) == "" {
		return invalid("Property 'name' is required and cannot be empty.")
	}
	if len(fc.Name) > 120 || strings.ContainsAny(fc.Name, "/\\?#%") {
		return invalid("Invalid value specified for property 'name' of resource 'FederatedIdentityCredential'.")
	}
	if strings.TrimSpace(fc.Issuer) == "" {
		return invalid("Property 'issuer' is required and cannot be empty.")
	}
	if u, err := url.Parse(fc.Issuer); err != nil || u.Scheme != "https" || u.Host == "" || len(fc.Issuer) > maxFICField {
		return invalid("Invalid value specified for property 'issuer' of resource 'FederatedIdentityCredential'. The issuer must be an https URL of at most %d characters.", maxFICField)
	}
	if strings.TrimSpace(fc.Subject) == "" {
		return invalid("Property 'subject' is required and cannot be empty.")
	}
	if len(fc.Subject) > maxFICField {
		return invalid("Invalid value specified for property 'subject' of resource 'FederatedIdentityCredential'.")
	}
	if len(fc.Audiences) != 1 || strings.TrimSpace(fc.Audiences[0]) == "" || len(fc.Audiences[0]) > maxFICField {
		return invalid("Invalid value specified for property 'audiences' of resource 'FederatedIdentityCredential'. Exactly one audience is allowed.")
	}
	return nil
}

// sameRef tells whether ref names fc by ID or (case-insensitively) by name.
func sameRef(fc FederatedCredential, ref string) bool {
	return strings.EqualFold(fc.ID, ref) || strings.EqualFold(fc.Name, ref)
}

// FederatedCredentials returns the application's (or managed identity's,
// by its client ID) federated credentials.
func (d *Directory) FederatedCredentials(ctx context.Context, appID string) ([]FederatedCredential, error) {
	app, err := d.Application(ctx, appID)
	if err != nil {
		return nil, err
	}
	out := append([]FederatedCredential{}, app.FederatedCredentials...)
	return out, nil
}

// CreateFederatedCredential adds fc to the application; its name must be
// new there and the application may hold at most 20.
func (d *Directory) CreateFederatedCredential(ctx context.Context, appID string, fc FederatedCredential) (FederatedCredential, error) {
	if fc.Audiences == nil { // absent, not sent empty
		fc.Audiences = []string{DefaultFederatedAudience}
	}
	if err := validateFederated(fc); err != nil {
		return FederatedCredential{}, err
	}
	fc.ID = d.newID()
	err := d.updateApp(ctx, appID, func(app *Application) error {
		for _, have := range app.FederatedCredentials {
			if strings.EqualFold(have.Name, fc.Name) {
				return conflict("FederatedIdentityCredential with name %s already exists.", fc.Name)
			}
		}
		if len(app.FederatedCredentials) >= MaxFederatedCredentials {
			return invalid("The maximum number of federated identity credentials (%d) on this application has been reached.", MaxFederatedCredentials)
		}
		app.FederatedCredentials = append(app.FederatedCredentials, fc)
		return nil
	})
	return fc, err
}

// UpsertFederatedCredential creates fc, or replaces the one of the same
// name keeping its ID (ARM's PUT); it tells whether it created.
func (d *Directory) UpsertFederatedCredential(ctx context.Context, appID string, fc FederatedCredential) (bool, error) {
	if err := validateFederated(fc); err != nil {
		return false, err
	}
	created := true
	err := d.updateApp(ctx, appID, func(app *Application) error {
		for i, have := range app.FederatedCredentials {
			if strings.EqualFold(have.Name, fc.Name) {
				fc.ID, fc.Name, created = have.ID, have.Name, false
				app.FederatedCredentials[i] = fc
				return nil
			}
		}
		if len(app.FederatedCredentials) >= MaxFederatedCredentials {
			return invalid("The maximum number of federated identity credentials (%d) on this identity has been reached.", MaxFederatedCredentials)
		}
		fc.ID = d.newID()
		app.FederatedCredentials = append(app.FederatedCredentials, fc)
		return nil
	})
	return created, err
}

// UpdateFederatedCredential changes the credential ref (ID or name) with
// change; the name cannot change.
func (d *Directory) UpdateFederatedCredential(ctx context.Context, appID, ref string, change func(*FederatedCredential)) (FederatedCredential, error) {
	var out FederatedCredential
	err := d.updateApp(ctx, appID, func(app *Application) error {
		for i, have := range app.FederatedCredentials {
			if !sameRef(have, ref) {
				continue
			}
			fc := have
			change(&fc)
			if !strings.EqualFold(fc.Name, have.Name) {
				return invalid("Property 'name' is read-only and cannot be changed.")
			}
			if err := validateFederated(fc); err != nil {
				return err
			}
			fc.ID = have.ID
			app.FederatedCredentials[i], out = fc, fc
			return nil
		}
		return missing(ErrObjectNotFound, ref)
	})
	return out, err
}

// DeleteFederatedCredential removes the credential ref (ID or name).
func (d *Directory) DeleteFederatedCredential(ctx context.Context, appID, ref string) error {
	return d.updateApp(ctx, appID, func(app *Application) error {
		for i, have := range app.FederatedCredentials {
			if sameRef(have, ref) {
				app.FederatedCredentials = append(app.FederatedCredentials[:i], app.FederatedCredentials[i+1:]...)
				return nil
			}
		}
		return missing(ErrObjectNotFound, ref)
	})
}
