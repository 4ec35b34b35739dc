package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// Ownership is stored as edges, like membership: under the owned object
// (kindOwner) and under the owner (kindOwned). Owners are users and
// service principals; applications, service principals and groups have
// them, as in Entra.

const ownersDup = "One or more added object references already exist for the following modified properties: 'owners'."

// ownable reads objectID as an object of objectType in tenantID.
func ownable(tx store.Tx, tenantID, objectType, objectID string) (Object, error) {
	o, err := readObject(tx, tenantID, objectID)
	if err != nil && !errors.Is(err, ErrObjectNotFound) {
		return Object{}, err
	}
	if err != nil || o.Type != objectType {
		return Object{}, missing(ErrObjectNotFound, strings.ToLower(objectID))
	}
	switch objectType {
	case TypeApplication, TypeServicePrincipal, TypeGroup:
		return o, nil
	}
	return Object{}, invalid("An object of type '%s' has no owners.", objectType)
}

// AddOwner makes ownerID (a user or service principal) an owner of the
// objectType object objectID.
func (d *Directory) AddOwner(ctx context.Context, tenantID, objectType, objectID, ownerID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		o, err := ownable(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		owner, err := readObject(tx, tenantID, ownerID)
		if err != nil {
			return notFound(err, ownerID)
		}
		return addOwner(tx, tenantID, o, owner)
	})
}

func addOwner(tx store.Tx, tenantID string, o, owner Object) error {
	switch owner.Type {
	case TypeUser, TypeServicePrincipal:
	default:
		return invalid("Unsupported referenced-object resource identifier for link property 'owners'.")
	}
	return addPair(tx, kindOwner, kindOwned, tenantID, o.ID(), o.Type, owner.ID(), owner.Type, ownersDup)
}

// addCreator makes the principal that created o its first owner, as Entra
// does for an application registered through Graph. A creator that is not
// a user or service principal of the tenant is left out.
func addCreator(tx store.Tx, tenantID string, o Object, creatorID string) error {
	owner, err := readObject(tx, tenantID, creatorID)
	if errors.Is(err, ErrObjectNotFound) || (err == nil && owner.Type != TypeUser && owner.Type != TypeServicePrincipal) {
		return nil
	}
	if err != nil {
		return err
	}
	return addOwner(tx, tenantID, o, owner)
}

// RemoveOwner ends ownerID's ownership of the objectType object objectID.
func (d *Directory) RemoveOwner(ctx context.Context, tenantID, objectType, objectID, ownerID string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		o, err := ownable(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		oid := strings.ToLower(ownerID)
		if err := tx.Delete(kindOwner, tenantID+"/"+o.ID()+"/"+oid); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return missing(ErrObjectNotFound, oid)
			}
			return err
		}
		return deleteIfPresent(tx, kindOwned, tenantID+"/"+oid+"/"+o.ID())
	})
}

// Owners returns the owners of the objectType object objectID.
func (d *Directory) Owners(ctx context.Context, tenantID, objectType, objectID string) ([]Object, error) {
	var out []Object
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		o, err := ownable(tx, tenantID, objectType, objectID)
		if err != nil {
			return err
		}
		out, err = edgeTargets(tx, kindOwner, tenantID, o.ID())
		return err
	})
	return out, err
}

// OwnedObjects returns what ownerID owns.
func (d *Directory) OwnedObjects(ctx context.Context, tenantID, ownerID string) ([]Object, error) {
	return d.edgesOf(ctx, kindOwned, tenantID, ownerID)
}
