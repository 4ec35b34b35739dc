package directory

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// Directory object types, named as Graph names them.
const (
	TypeUser             = "user"
	TypeGroup            = "group"
	TypeServicePrincipal = "servicePrincipal"
	TypeApplication      = "application"
	TypeDirectoryRole    = "directoryRole"
)

// Object is any directory object; the field matching Type is set.
type Object struct {
	Type             string
	User             *User
	Group            *Group
	ServicePrincipal *ServicePrincipal
	Application      *Application
	DirectoryRole    *DirectoryRole
}

// ID is the object's ID.
func (o Object) ID() string {
	switch {
	case o.User != nil:
		return o.User.ObjectID
	case o.Group != nil:
		return o.Group.ObjectID
	case o.ServicePrincipal != nil:
		return o.ServicePrincipal.ObjectID
	case o.Application != nil:
		return o.Application.ObjectID
	case o.DirectoryRole != nil:
		return o.DirectoryRole.ObjectID
	}
	return ""
}

// DisplayName is the object's displayName, whatever its type.
func (o Object) DisplayName() string {
	switch {
	case o.User != nil:
		return o.User.DisplayName
	case o.Group != nil:
		return o.Group.DisplayName
	case o.ServicePrincipal != nil:
		return o.ServicePrincipal.DisplayName
	case o.Application != nil:
		return o.Application.DisplayName
	case o.DirectoryRole != nil:
		return o.DirectoryRole.DisplayName
	}
	return ""
}

// Object finds a directory object of tenantID by ID, whatever its type.
func (d *Directory) Object(ctx context.Context, tenantID, id string) (Object, error) {
	var o Object
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		o, err = readObject(tx, tenantID, id)
		return err
	})
	return o, err
}

// Objects finds the objects of tenantID with the given IDs, in the order
// asked, skipping unknown IDs (as Graph's getByIds does). When types is
// not empty only objects of those types are returned.
func (d *Directory) Objects(ctx context.Context, tenantID string, ids, types []string) ([]Object, error) {
	var out []Object
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, id := range ids {
			o, err := readObject(tx, tenantID, id)
			if errors.Is(err, ErrObjectNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if len(types) == 0 || containsFold(types, o.Type) {
				out = append(out, o)
			}
		}
		return nil
	})
	return out, err
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// readObject probes each kind for id, the cheap indexes first.
func readObject(tx store.Tx, tenantID, id string) (Object, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	key := tenantID + "/" + id
	var u User
	if err := store.GetJSON(tx, kindUser, key, &u); err == nil {
		return Object{Type: TypeUser, User: &u}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Object{}, err
	}
	var g Group
	if err := store.GetJSON(tx, kindGroup, key, &g); err == nil {
		return Object{Type: TypeGroup, Group: &g}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Object{}, err
	}
	if sp, err := spByObject(tx, tenantID, id); err == nil {
		return Object{Type: TypeServicePrincipal, ServicePrincipal: &sp}, nil
	} else if !errors.Is(err, ErrPrincipalNotFound) {
		return Object{}, err
	}
	var r DirectoryRole
	if err := store.GetJSON(tx, kindDirRole, key, &r); err == nil {
		return Object{Type: TypeDirectoryRole, DirectoryRole: &r}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Object{}, err
	}
	if app, err := appByObject(tx, tenantID, id); err == nil {
		return Object{Type: TypeApplication, Application: &app}, nil
	} else if !errors.Is(err, ErrApplicationNotFound) {
		return Object{}, err
	}
	return Object{}, ErrObjectNotFound
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }
