package directory

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// GlobalAdministratorRole is the role template ID of Entra's Global
// Administrator, the same in every tenant.
const GlobalAdministratorRole = "62e90394-69f5-4237-9190-012177145e10"

// roleTemplates are the directory roles aksid can activate.
var roleTemplates = map[string][2]string{
	GlobalAdministratorRole: {"Global Administrator", "Can manage all aspects of Azure AD and Microsoft services that use Azure AD identities."},
}

// EnsureDirectoryRoleMember activates the role templateID in tenantID if
// needed and makes objectID (a user or service principal) its member.
func (d *Directory) EnsureDirectoryRoleMember(ctx context.Context, tenantID, templateID, objectID string) error {
	tmpl, ok := roleTemplates[templateID]
	if !ok {
		return invalid("Unknown directory role template '%s'.", templateID)
	}
	if in, err := d.hasRole(ctx, tenantID, templateID, objectID); err != nil || in {
		return err // the common case at start: no write transaction
	}
	return d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		m, err := readObject(tx, tenantID, objectID)
		if err != nil {
			return notFound(err, objectID)
		}
		if m.Type != TypeUser && m.Type != TypeServicePrincipal {
			return invalid("Only users and service principals can hold directory roles.")
		}
		role, err := roleByTemplate(tx, tenantID, templateID)
		if errors.Is(err, store.ErrNotFound) {
			role = DirectoryRole{ObjectID: d.newID(), TenantID: tenantID, RoleTemplateID: templateID,
				DisplayName: tmpl[0], Description: tmpl[1]}
			err = store.CreateJSON(tx, kindDirRole, tenantID+"/"+role.ObjectID, role)
		}
		if err != nil {
			return err
		}
		err = addEdge(tx, tenantID, role.ObjectID, TypeDirectoryRole, m.ID(), m.Type, "already a member")
		if errors.Is(err, ErrConflict) {
			return nil
		}
		return err
	})
}

// IsAdministrator tells whether objectID holds Global Administrator in
// tenantID. Role membership is direct, as Entra's (groups do not pass
// roles on unless role-assignable, which aksid does not model).
func (d *Directory) IsAdministrator(ctx context.Context, tenantID, objectID string) (bool, error) {
	return d.hasRole(ctx, tenantID, GlobalAdministratorRole, objectID)
}

func (d *Directory) hasRole(ctx context.Context, tenantID, templateID, objectID string) (bool, error) {
	in := false
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		role, err := roleByTemplate(tx, tenantID, templateID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.Get(kindMember, tenantID+"/"+role.ObjectID+"/"+strings.ToLower(objectID))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		in = err == nil
		return err
	})
	return in, err
}

// roleByTemplate finds the activated role of a template; a tenant has a
// handful at most, so a scan is enough.
func roleByTemplate(tx store.Tx, tenantID, templateID string) (DirectoryRole, error) {
	roles, err := store.ListJSON[DirectoryRole](tx, kindDirRole, tenantID+"/")
	if err != nil {
		return DirectoryRole{}, err
	}
	for _, r := range roles {
		if r.RoleTemplateID == templateID {
			return r, nil
		}
	}
	return DirectoryRole{}, store.ErrNotFound
}
