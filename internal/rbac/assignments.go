package rbac

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/store"
)

// Assignment records that a principal holds a role at a scope. It is
// stored as KindAssignment under its lower-case GUID name, in the shape
// bootstrap has always written.
type Assignment struct {
	ID               string    `json:"id"` // {scope}/providers/Microsoft.Authorization/roleAssignments/{name}
	Scope            string    `json:"scope"`
	RoleDefinitionID string    `json:"roleDefinitionId"`
	PrincipalID      string    `json:"principalId"`
	PrincipalType    string    `json:"principalType"`
	Description      string    `json:"description,omitempty"`
	CreatedBy        string    `json:"createdBy,omitempty"`
	CreatedOn        time.Time `json:"createdOn"`
	UpdatedOn        time.Time `json:"updatedOn,omitzero"`
}

// Name is the assignment's GUID, the last segment of its ID.
func (a Assignment) Name() string { return a.ID[strings.LastIndexByte(a.ID, '/')+1:] }

// AssignmentSpec is what a client sends to create an assignment.
type AssignmentSpec struct {
	Name             string // GUID from the request path
	Scope            string
	RoleDefinitionID string // full role definition ID
	PrincipalID      string
	PrincipalType    string // User, Group, ServicePrincipal, ForeignGroup, Device, or empty
	Description      string
	CreatedBy        string // object ID of the caller
}

// principalTypes maps the accepted principal types to ARM's spelling.
var principalTypes = map[string]string{"": "", "user": "User", "group": "Group",
	"serviceprincipal": "ServicePrincipal", "foreigngroup": "ForeignGroup", "device": "Device"}

func assignmentID(scope armid.ID, name string) string {
	prefix := scope.String()
	if scope.IsRoot() {
		prefix = ""
	}
	return prefix + "/providers/Microsoft.Authorization/roleAssignments/" + name
}

// uniqueKey identifies an assignment's (role, principal, scope) triple; the
// role comes first so that a role's assignments share a key prefix.
func uniqueKey(roleGUID, principalID string, scope armid.ID) string {
	return roleGUID + "|" + strings.ToLower(principalID) + "|" + scope.Key()
}

// InsertAssignment writes a new assignment and its uniqueness record in tx.
// It checks nothing but uniqueness (RoleAssignmentExists); it is for
// bootstrap, which writes before any Service exists. Services see the
// assignment at their next look at the store's generation.
func InsertAssignment(tx store.Tx, a Assignment) error {
	scope, err := armid.Parse(a.Scope)
	if err != nil {
		return err
	}
	if ref, err := parseAssignmentID(a.ID); err != nil || !ref.scope.Equal(scope) {
		return &armid.MalformedError{ID: a.ID, Reason: "not a role assignment ID at scope " + a.Scope}
	}
	guid, err := roleGUID(a.RoleDefinitionID)
	if err != nil {
		return err
	}
	if err := tx.Create(kindUnique, uniqueKey(guid, a.PrincipalID, scope), []byte(strings.ToLower(a.Name()))); err != nil {
		if errors.Is(err, store.ErrExists) {
			return exists()
		}
		return err
	}
	if err := store.CreateJSON(tx, KindAssignment, strings.ToLower(a.Name()), a); err != nil {
		return err
	}
	return bumpGeneration(tx)
}

func exists() *Error {
	return errorf(CodeRoleAssignmentExists, "The role assignment already exists.")
}

// CreateAssignment assigns a role at a scope. A repeated request with the
// same name and content returns the existing assignment, as ARM's PUT does.
func (s *Service) CreateAssignment(ctx context.Context, spec AssignmentSpec) (Assignment, error) {
	name, ok := parseGUID(spec.Name)
	if !ok {
		return Assignment{}, errorf(CodeInvalidRoleAssignmentID, "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", spec.Name)
	}
	scope, err := armid.Parse(spec.Scope)
	if err != nil {
		return Assignment{}, err
	}
	principal, ok := parseGUID(spec.PrincipalID)
	if !ok {
		return Assignment{}, errorf(CodeInvalidPrincipalID, "A valid principal ID must be provided for role assignment.")
	}
	ptype, ok := principalTypes[strings.ToLower(spec.PrincipalType)]
	if !ok {
		return Assignment{}, errorf(CodeInvalidPrincipalType, "The principal type '%s' is not valid.", spec.PrincipalType)
	}
	guid, err := roleGUID(spec.RoleDefinitionID)
	if err != nil {
		return Assignment{}, err
	}
	a := Assignment{ID: assignmentID(scope, name), Scope: scope.String(), RoleDefinitionID: spec.RoleDefinitionID,
		PrincipalID: principal, PrincipalType: ptype, Description: spec.Description, CreatedBy: spec.CreatedBy}
	var existing *Assignment
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		existing = nil
		// Assignments written before uniqueness records existed are
		// found through the principal index instead.
		if dup, err := duplicate(tx, guid, principal, scope.Key(), name); err != nil || dup {
			if err == nil {
				err = exists()
			}
			return err
		}
		d, err := s.lookupRole(tx, guid)
		if err != nil {
			return err
		}
		if !assignableAt(d, scope) {
			return errorf(CodeScopeNotAssignable, "The role %s is not available for assignment at the requested scope.", d.RoleName)
		}
		var old Assignment
		switch err := store.GetJSON(tx, KindAssignment, name, &old); {
		case err == nil:
			oldScope, perr := armid.Parse(old.Scope)
			oldRole, gerr := roleGUID(old.RoleDefinitionID)
			if perr != nil || gerr != nil || !oldScope.Equal(scope) || oldRole != guid || !strings.EqualFold(old.PrincipalID, principal) {
				return errorf(CodeRoleAssignmentUpdateNotPermitted, "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
			}
			existing = &old
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		a.CreatedOn = s.clk.Now().UTC()
		a.UpdatedOn = a.CreatedOn
		return InsertAssignment(tx, a)
	})
	if err != nil {
		return Assignment{}, err
	}
	if existing != nil {
		return *existing, nil
	}
	s.evict(principal)
	return a, nil
}

// duplicate reports whether the store holds another assignment of the
// same role to the same principal at the same scope.
func duplicate(tx store.Tx, roleGUID, principal, scopeKey, name string) (bool, error) {
	others, err := findAssignments(tx, map[string]bool{}, store.Query{Index: byPrincipal, Terms: []string{principal}})
	if err != nil {
		return false, err
	}
	for _, o := range others {
		g, err := grantOf(o.Value, 0)
		if err == nil && g.role == roleGUID && g.scope == scopeKey && g.name != name {
			return true, nil
		}
	}
	return false, nil
}

// assignmentRef is a role assignment ID's scope and name.
type assignmentRef struct {
	scope armid.ID
	name  string
}

// parseAssignmentID splits {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
func parseAssignmentID(id string) (assignmentRef, error) {
	parsed, err := armid.Parse(id)
	if err != nil {
		return assignmentRef{}, err
	}
	name, ok := parseGUID(parsed.Name())
	if !strings.EqualFold(parsed.ResourceType(), "Microsoft.Authorization/roleAssignments") || !ok {
		return assignmentRef{}, &armid.MalformedError{ID: id, Reason: "not a role assignment ID"}
	}
	return assignmentRef{parsed.Parent(), name}, nil
}

func notFound(name string) *Error {
	return errorf(CodeRoleAssignmentNotFound, "The role assignment '%s' is not found.", name)
}

// getAssignment reads the assignment id names, checking its scope too.
func getAssignment(tx store.Tx, id string) (Assignment, error) {
	ref, err := parseAssignmentID(id)
	if err != nil {
		return Assignment{}, err
	}
	scope, name := ref.scope, ref.name
	var a Assignment
	err = store.GetJSON(tx, KindAssignment, name, &a)
	if errors.Is(err, store.ErrNotFound) {
		return a, notFound(name)
	}
	if err != nil {
		return a, err
	}
	if got, perr := armid.Parse(a.Scope); perr != nil || !got.Equal(scope) {
		return Assignment{}, notFound(name)
	}
	return a, nil
}

// Assignment returns the assignment with the given full ID.
func (s *Service) Assignment(ctx context.Context, id string) (Assignment, error) {
	var a Assignment
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		a, err = getAssignment(tx, id)
		return err
	})
	return a, err
}

// DeleteAssignment removes the assignment with the given full ID and
// returns it. Access it granted ends at once (no propagation delay).
func (s *Service) DeleteAssignment(ctx context.Context, id string) (Assignment, error) {
	var a Assignment
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if a, err = getAssignment(tx, id); err != nil {
			return err
		}
		if err := tx.Delete(KindAssignment, strings.ToLower(a.Name())); err != nil {
			return err
		}
		scope, _ := armid.Parse(a.Scope)
		guid, _ := roleGUID(a.RoleDefinitionID)
		if err := tx.Delete(kindUnique, uniqueKey(guid, a.PrincipalID, scope)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return bumpGeneration(tx)
	})
	if err != nil {
		return Assignment{}, err
	}
	s.evict(a.PrincipalID)
	return a, nil
}

// AssignmentFilter narrows ListAssignments.
type AssignmentFilter struct {
	// AtScope keeps assignments at the scope and above it (atScope());
	// without it the list also holds those below.
	AtScope bool
	// PrincipalID keeps one principal's own assignments (principalId eq).
	PrincipalID string
	// AssignedTo keeps the assignments of a principal and of its groups
	// (assignedTo()); the caller lists the groups in Groups, since the
	// directory is not rbac's to read.
	AssignedTo string
	Groups     []string
}

// ListAssignments returns, sorted by ID, the assignments at scope, at its
// ancestors and (unless f.AtScope) at its descendants, as ARM's
// roleAssignments list does.
func (s *Service) ListAssignments(ctx context.Context, scope string, f AssignmentFilter) ([]Assignment, error) {
	at, err := armid.Parse(scope)
	if err != nil {
		return nil, err
	}
	principals := map[string]bool{}
	if f.PrincipalID != "" {
		principals[strings.ToLower(f.PrincipalID)] = true
	}
	if f.AssignedTo != "" {
		principals[strings.ToLower(f.AssignedTo)] = true
		for _, g := range f.Groups {
			principals[strings.ToLower(g)] = true
		}
	}
	var out []Assignment
	err = s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		qs := []store.Query{atOrAbove(at)}
		if !f.AtScope {
			qs = append(qs, below(at))
		}
		if len(principals) > 0 {
			p := store.Query{Index: byPrincipal}
			for id := range principals {
				p.Terms = append(p.Terms, id)
			}
			qs = []store.Query{p}
		}
		items, err := findAssignments(tx, map[string]bool{}, qs...)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, it := range items {
			a := it.Value
			if len(principals) > 0 && !principals[strings.ToLower(a.PrincipalID)] {
				continue
			}
			as, err := armid.Parse(a.Scope)
			if err != nil || !(as.Contains(at) || (!f.AtScope && at.Contains(as))) {
				continue
			}
			out = append(out, a)
		}
		return nil
	})
	sortByName(out, func(a Assignment) string { return strings.ToLower(a.ID) })
	return out, err
}

// DeleteUnder removes the assignments at scope and below it, when the
// scope (a resource group, a resource) is deleted, as Azure does: a group
// made again under the same name starts with none.
func (s *Service) DeleteUnder(ctx context.Context, scope string) error {
	at, err := armid.Parse(scope)
	if err != nil {
		return err
	}
	var gone []Assignment
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		gone = gone[:0]
		items, err := findAssignments(tx, map[string]bool{}, store.Query{Index: byScope, Terms: []string{at.Key()}}, below(at))
		if err != nil {
			return err
		}
		for _, it := range items {
			a := it.Value
			as, err := armid.Parse(a.Scope)
			if err != nil || !at.Contains(as) {
				continue
			}
			if err := tx.Delete(KindAssignment, it.Key); err != nil {
				return err
			}
			guid, _ := roleGUID(a.RoleDefinitionID)
			if err := tx.Delete(kindUnique, uniqueKey(guid, a.PrincipalID, as)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			gone = append(gone, a)
		}
		if len(gone) == 0 {
			return nil
		}
		return bumpGeneration(tx)
	})
	if err != nil {
		return err
	}
	for _, a := range gone {
		s.evict(a.PrincipalID)
	}
	return nil
}
