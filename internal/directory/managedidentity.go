package directory

import (
	"context"

	"github.com/aksid/aksid/internal/store"
)

// ManagedIdentityType is the servicePrincipalType of managed identities.
const ManagedIdentityType = "ManagedIdentity"

// CreateManagedIdentity makes the directory side of a managed identity: a
// service principal of type ManagedIdentity (its appId is the identity's
// client ID, its object ID the principal ID) naming the Azure resource,
// behind a hidden registration without credentials, so it can only get
// tokens through the managed-identity endpoint.
func (d *Directory) CreateManagedIdentity(ctx context.Context, tenantID, name, resourceID string) (ServicePrincipal, error) {
	var sp ServicePrincipal
	_, err := d.registerApplication(ctx, tenantID, ApplicationSpec{DisplayName: name}, func(tx store.Tx, app Application) error {
		app.ManagedIdentity = true
		if err := store.PutJSON(tx, kindApp, app.AppID, app); err != nil {
			return err
		}
		var err error
		if sp, err = d.addServicePrincipal(tx, tenantID, app, app.Created); err != nil {
			return err
		}
		sp.ServicePrincipalType = ManagedIdentityType
		sp.ServicePrincipalNames = []string{sp.AppID, resourceID}
		return store.PutJSON(tx, kindSP, tenantID+"/"+app.AppID, sp)
	})
	return sp, err
}

// DeleteManagedIdentity removes a managed identity's principal and registration.
func (d *Directory) DeleteManagedIdentity(ctx context.Context, tenantID, clientID string) error {
	app, err := d.Application(ctx, clientID)
	if err != nil {
		return err
	}
	return d.DeleteApplication(ctx, tenantID, app.ObjectID)
}
