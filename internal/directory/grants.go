package directory

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/aksid/aksid/internal/store"
)

// Consent types of a delegated permission grant.
const (
	ConsentAllPrincipals = "AllPrincipals"
	ConsentPrincipal     = "Principal"
)

// PermissionGrant is a delegated permission grant (Graph's
// oAuth2PermissionGrant): the client service principal may act for
// every user (AllPrincipals) or for one (Principal) on the resource
// service principal's scopes.
type PermissionGrant struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	ClientID    string `json:"clientId"`    // the client's service principal object ID
	ConsentType string `json:"consentType"` // AllPrincipals or Principal
	PrincipalID string `json:"principalId"` // the user, for Principal
	ResourceID  string `json:"resourceId"`  // the resource's service principal object ID
	Scope       string `json:"scope"`       // space-separated scope values
}

const grantsDup = "Permission entry already exists."

// grantID is Entra's form of a grant's ID: the client's, the resource's
// and (for one user) the user's object IDs as .NET lays out a GUID's
// bytes, base64url without padding. One grant per client, resource and
// user follows.
func grantID(g PermissionGrant) string {
	var b []byte
	for _, id := range []string{g.ClientID, g.ResourceID, g.PrincipalID} {
		if id == "" {
			continue
		}
		b = append(b, dotNetBytes(uuid.MustParse(id))...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreatePermissionGrant records a delegated permission grant in tenantID.
func (d *Directory) CreatePermissionGrant(ctx context.Context, tenantID string, g PermissionGrant) (PermissionGrant, error) {
	g.TenantID = tenantID
	g.Scope = strings.Join(strings.Fields(g.Scope), " ")
	switch {
	case strings.EqualFold(g.ConsentType, ConsentAllPrincipals):
		g.ConsentType = ConsentAllPrincipals
		if g.PrincipalID != "" {
			return PermissionGrant{}, invalid("principalId must be null when consentType is AllPrincipals.")
		}
	case strings.EqualFold(g.ConsentType, ConsentPrincipal):
		g.ConsentType = ConsentPrincipal
		if g.PrincipalID == "" {
			return PermissionGrant{}, invalid("principalId is required when consentType is Principal.")
		}
	default:
		return PermissionGrant{}, invalid("Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'.")
	}
	for _, p := range []struct {
		name string
		id   *string
	}{{"clientId", &g.ClientID}, {"resourceId", &g.ResourceID}, {"principalId", &g.PrincipalID}} {
		if *p.id == "" {
			continue
		}
		u, err := uuid.Parse(*p.id)
		if err != nil {
			return PermissionGrant{}, invalid("Invalid value specified for property '%s' of resource 'OAuth2PermissionGrant'.", p.name)
		}
		*p.id = u.String()
	}
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, id := range []string{g.ClientID, g.ResourceID} {
			if _, err := spByObject(tx, tenantID, id); err != nil {
				return notFound(err, id)
			}
		}
		if g.PrincipalID != "" {
			if _, err := userByIDOrUPN(tx, tenantID, g.PrincipalID); err != nil {
				return notFound(err, g.PrincipalID)
			}
		}
		g.ID = grantID(g)
		b, err := jsonBytes(g)
		if err != nil {
			return err
		}
		if err := tx.Create(kindGrant, tenantID+"/"+g.ID, b); err != nil {
			if errors.Is(err, store.ErrExists) {
				return conflict("%s", grantsDup)
			}
			return err
		}
		return nil
	})
	return g, err
}

// PermissionGrants returns tenantID's delegated permission grants.
func (d *Directory) PermissionGrants(ctx context.Context, tenantID string) ([]PermissionGrant, error) {
	var out []PermissionGrant
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = grantsOf(tx, tenantID)
		return err
	})
	return out, err
}

func grantsOf(tx store.Tx, tenantID string) ([]PermissionGrant, error) {
	items, err := store.ListEntries[PermissionGrant](tx, kindGrant, tenantID+"/")
	if err != nil {
		return nil, err
	}
	out := make([]PermissionGrant, 0, len(items))
	for _, it := range items {
		out = append(out, it.Value)
	}
	return out, nil
}

// PermissionGrant returns one grant by ID.
func (d *Directory) PermissionGrant(ctx context.Context, tenantID, id string) (PermissionGrant, error) {
	var g PermissionGrant
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return readGrant(tx, tenantID, id, &g)
	})
	return g, err
}

func readGrant(tx store.Tx, tenantID, id string, g *PermissionGrant) error {
	err := store.GetJSON(tx, kindGrant, tenantID+"/"+id, g)
	if errors.Is(err, store.ErrNotFound) {
		return missing(ErrObjectNotFound, id)
	}
	return err
}

// UpdatePermissionGrantScope replaces a grant's scopes.
func (d *Directory) UpdatePermissionGrantScope(ctx context.Context, tenantID, id, scope string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		var g PermissionGrant
		if err := readGrant(tx, tenantID, id, &g); err != nil {
			return err
		}
		g.Scope = strings.Join(strings.Fields(scope), " ")
		b, err := jsonBytes(g)
		if err != nil {
			return err
		}
		return tx.Put(kindGrant, tenantID+"/"+id, b)
	})
}

// DeletePermissionGrant revokes a grant.
func (d *Directory) DeletePermissionGrant(ctx context.Context, tenantID, id string) error {
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Delete(kindGrant, tenantID+"/"+id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return missing(ErrObjectNotFound, id)
			}
			return err
		}
		return nil
	})
}

// dropGrants removes the grants naming objectID as client, resource or
// user, as Entra does when the object is deleted.
func dropGrants(tx store.Tx, tenantID, objectID string) error {
	gs, err := grantsOf(tx, tenantID)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.ClientID == objectID || g.ResourceID == objectID || g.PrincipalID == objectID {
			if err := tx.Delete(kindGrant, tenantID+"/"+g.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
