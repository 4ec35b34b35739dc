package rbac

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/store"
)

// Role definition types, as ARM spells them in properties.type.
const (
	BuiltInRole = "BuiltInRole"
	CustomRole  = "CustomRole"
)

// Permission is one block of a role: what it allows, minus what it carves out.
type Permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// RoleDefinition is a built-in or custom role. ID is rendered for the
// scope it was read at and is not stored.
type RoleDefinition struct {
	ID               string       `json:"id,omitempty"`
	Name             string       `json:"name"` // the GUID
	RoleName         string       `json:"roleName"`
	Description      string       `json:"description"`
	Type             string       `json:"type"` // BuiltInRole or CustomRole
	Permissions      []Permission `json:"permissions"`
	AssignableScopes []string     `json:"assignableScopes"`
	CreatedOn        time.Time    `json:"createdOn,omitzero"`
	UpdatedOn        time.Time    `json:"updatedOn,omitzero"`
}

// builtinJSON holds Azure's built-in roles with their real GUIDs and
// permissions (from the Azure built-in roles reference).
//
//go:embed builtin_roles.json
var builtinJSON []byte

func loadBuiltins() ([]RoleDefinition, error) {
	var defs []RoleDefinition
	if err := json.Unmarshal(builtinJSON, &defs); err != nil {
		return nil, fmt.Errorf("rbac: builtin_roles.json: %w", err)
	}
	for i := range defs {
		g, ok := parseGUID(defs[i].Name)
		if !ok || defs[i].Type != BuiltInRole {
			return nil, fmt.Errorf("rbac: builtin_roles.json: bad role %q", defs[i].Name)
		}
		defs[i].Name = g
	}
	sortByName(defs, func(d RoleDefinition) string { return strings.ToLower(d.RoleName) })
	return defs, nil
}

// roleDefinitionID renders a role's ID as ARM does at scope: under the
// scope's subscription, or at the tenant when the scope has none.
func roleDefinitionID(scope armid.ID, guid string) string {
	prefix := ""
	if sub := scope.SubscriptionID(); sub != "" {
		prefix = "/subscriptions/" + sub
	}
	return prefix + "/providers/Microsoft.Authorization/roleDefinitions/" + guid
}

// roleGUID takes a role definition's GUID out of a full ID or a bare GUID.
func roleGUID(idOrGUID string) (string, error) {
	if g, ok := parseGUID(idOrGUID); ok {
		return g, nil
	}
	id, err := armid.Parse(idOrGUID)
	if err != nil {
		return "", err
	}
	g, ok := parseGUID(id.Name())
	if !strings.EqualFold(id.ResourceType(), "Microsoft.Authorization/roleDefinitions") || !ok {
		return "", &armid.MalformedError{ID: idOrGUID, Reason: "not a role definition ID"}
	}
	return g, nil
}

func notExist(guid string) *Error {
	return errorf(CodeRoleDefinitionDoesNotExist, "The specified role definition with ID '%s' does not exist.", guid)
}

// visibleAt reports whether a role shows at scope: built-ins everywhere,
// custom roles at, above and below their assignable scopes.
func visibleAt(d RoleDefinition, scope armid.ID) bool {
	for _, s := range d.AssignableScopes {
		a, err := armid.Parse(s)
		if err == nil && (a.Contains(scope) || scope.Contains(a)) {
			return true
		}
	}
	return false
}

// assignableAt reports whether an assignment of d may be made at scope.
func assignableAt(d RoleDefinition, scope armid.ID) bool {
	for _, s := range d.AssignableScopes {
		if a, err := armid.Parse(s); err == nil && a.Contains(scope) {
			return true
		}
	}
	return false
}

// lookupRole finds a role by GUID inside tx: built-ins from the embedded
// data, custom roles from the store.
func (s *Service) lookupRole(tx store.Tx, guid string) (RoleDefinition, error) {
	if i, ok := s.builtin[guid]; ok {
		return s.builtins[i], nil
	}
	var d RoleDefinition
	err := store.GetJSON(tx, kindDefinition, guid, &d)
	if errors.Is(err, store.ErrNotFound) {
		return d, notExist(guid)
	}
	return d, err
}

// RoleDefinition returns the role named by a full role definition ID or a
// GUID, as seen at scope.
func (s *Service) RoleDefinition(ctx context.Context, scope, idOrGUID string) (RoleDefinition, error) {
	at, err := armid.Parse(scope)
	if err != nil {
		return RoleDefinition{}, err
	}
	guid, err := roleGUID(idOrGUID)
	if err != nil {
		return RoleDefinition{}, err
	}
	var d RoleDefinition
	err = s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		d, err = s.lookupRole(tx, guid)
		return err
	})
	if err != nil {
		return RoleDefinition{}, err
	}
	if !visibleAt(d, at) {
		return RoleDefinition{}, notExist(guid)
	}
	d.ID = roleDefinitionID(at, d.Name)
	return d, nil
}

// RoleDefinitionFilter narrows ListRoleDefinitions; empty fields match all.
type RoleDefinitionFilter struct {
	RoleName string // exact, case-insensitive (az asks for "acrpull")
	Type     string // BuiltInRole or CustomRole, case-insensitive
}

// ListRoleDefinitions returns the roles visible at scope, built-ins first,
// each sorted by roleName.
func (s *Service) ListRoleDefinitions(ctx context.Context, scope string, f RoleDefinitionFilter) ([]RoleDefinition, error) {
	at, err := armid.Parse(scope)
	if err != nil {
		return nil, err
	}
	match := func(d RoleDefinition) bool {
		return (f.RoleName == "" || strings.EqualFold(f.RoleName, d.RoleName)) &&
			(f.Type == "" || strings.EqualFold(f.Type, d.Type)) && visibleAt(d, at)
	}
	var out []RoleDefinition
	for _, d := range s.builtins {
		if match(d) {
			d.ID = roleDefinitionID(at, d.Name)
			out = append(out, d)
		}
	}
	var custom []RoleDefinition
	err = s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		custom, err = listCustom(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, d := range custom {
		if match(d) {
			d.ID = roleDefinitionID(at, d.Name)
			out = append(out, d)
		}
	}
	return out, nil
}

func listCustom(tx store.Tx) ([]RoleDefinition, error) {
	items, err := store.ListJSON[RoleDefinition](tx, kindDefinition, "")
	if err != nil {
		return nil, err
	}
	sortByName(items, func(d RoleDefinition) string { return strings.ToLower(d.RoleName) })
	return items, nil
}

// PutRoleDefinition creates or replaces the custom role def.Name (a GUID),
// as seen at scope. Its assignable scopes must be real scopes below the
// root, and its roleName unique among all roles.
func (s *Service) PutRoleDefinition(ctx context.Context, scope string, def RoleDefinition) (RoleDefinition, error) {
	at, err := armid.Parse(scope)
	if err != nil {
		return RoleDefinition{}, err
	}
	d, err := s.validCustom(def)
	if err != nil {
		return RoleDefinition{}, err
	}
	now := s.clk.Now().UTC()
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		custom, err := listCustom(tx)
		if err != nil {
			return err
		}
		d.CreatedOn, d.UpdatedOn = now, now
		for _, c := range custom {
			switch {
			case c.Name == d.Name:
				d.CreatedOn = c.CreatedOn
			case strings.EqualFold(c.RoleName, d.RoleName):
				return sameName()
			}
		}
		if err := store.PutJSON(tx, kindDefinition, d.Name, d); err != nil {
			return err
		}
		return bumpGeneration(tx)
	})
	if err != nil {
		return RoleDefinition{}, err
	}
	s.putRole(d)
	d.ID = roleDefinitionID(at, d.Name)
	return d, nil
}

func sameName() *Error {
	return errorf(CodeRoleDefinitionWithSameNameExists, "A custom role with the same name already exists in this directory.")
}

// validCustom checks a custom role and returns it in canonical form.
func (s *Service) validCustom(def RoleDefinition) (RoleDefinition, error) {
	guid, ok := parseGUID(def.Name)
	if !ok {
		return def, errorf(CodeInvalidRoleDefinition, "The role definition ID '%s' is not a valid GUID.", def.Name)
	}
	if _, ok := s.builtin[guid]; ok {
		return def, errorf(CodeBuiltInRoleReadOnly, "The role definition '%s' is a built-in role and cannot be changed.", guid)
	}
	d := RoleDefinition{Name: guid, RoleName: strings.TrimSpace(def.RoleName), Description: def.Description, Type: CustomRole}
	if d.RoleName == "" {
		return def, errorf(CodeInvalidRoleDefinition, "The role name must not be empty.")
	}
	for _, b := range s.builtins {
		if strings.EqualFold(b.RoleName, d.RoleName) {
			return def, sameName()
		}
	}
	granted := 0
	for _, p := range def.Permissions {
		for _, list := range [][]string{p.Actions, p.NotActions, p.DataActions, p.NotDataActions} {
			for _, a := range list {
				if strings.TrimSpace(a) == "" || strings.ContainsAny(a, " \t\r\n") {
					return def, errorf(CodeInvalidRoleDefinition, "The action '%s' is not valid.", a)
				}
			}
		}
		granted += len(p.Actions) + len(p.DataActions)
		d.Permissions = append(d.Permissions, Permission{Actions: nonNil(p.Actions), NotActions: nonNil(p.NotActions),
			DataActions: nonNil(p.DataActions), NotDataActions: nonNil(p.NotDataActions)})
	}
	if granted == 0 {
		return def, errorf(CodeInvalidRoleDefinition, "The role definition must grant at least one action or data action.")
	}
	if len(def.AssignableScopes) == 0 {
		return def, errorf(CodeInvalidRoleDefinition, "The role definition must have at least one assignable scope.")
	}
	for _, sc := range def.AssignableScopes {
		id, err := armid.Parse(sc)
		if err != nil {
			return def, err
		}
		if id.IsRoot() {
			// Only built-in roles are assignable at the root.
			return def, errorf(CodeInvalidRoleDefinition, "The assignable scope '/' is reserved for built-in roles.")
		}
		d.AssignableScopes = append(d.AssignableScopes, id.String())
	}
	return d, nil
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// DeleteRoleDefinition removes a custom role, refusing while any
// assignment still uses it, and returns what was removed.
func (s *Service) DeleteRoleDefinition(ctx context.Context, scope, idOrGUID string) (RoleDefinition, error) {
	at, err := armid.Parse(scope)
	if err != nil {
		return RoleDefinition{}, err
	}
	guid, err := roleGUID(idOrGUID)
	if err != nil {
		return RoleDefinition{}, err
	}
	if _, ok := s.builtin[guid]; ok {
		return RoleDefinition{}, errorf(CodeBuiltInRoleReadOnly, "The role definition '%s' is a built-in role and cannot be deleted.", guid)
	}
	var d RoleDefinition
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if d, err = s.lookupRole(tx, guid); err != nil {
			return err
		}
		users, err := tx.List(kindUnique, guid+"|")
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return errorf(CodeRoleDefinitionHasAssignments, "There are existing role assignments referencing role")
		}
		if err := tx.Delete(kindDefinition, guid); err != nil {
			return err
		}
		return bumpGeneration(tx)
	})
	if err != nil {
		return RoleDefinition{}, err
	}
	s.removeRole(guid)
	d.ID = roleDefinitionID(at, d.Name)
	return d, nil
}

// putRole makes this Service's decisions use d at once.
func (s *Service) putRole(d RoleDefinition) {
	r := compileRole(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[strings.ToLower(d.Name)] = r
}

// removeRole makes this Service's decisions forget a deleted role.
func (s *Service) removeRole(guid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.roles, guid)
}
