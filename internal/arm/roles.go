package arm

import (
	"context"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/rbac"
)

// RoleService is the RBAC administration the face drives.
type RoleService interface {
	CreateAssignment(ctx context.Context, spec rbac.AssignmentSpec) (rbac.Assignment, error)
	Assignment(ctx context.Context, id string) (rbac.Assignment, error)
	DeleteAssignment(ctx context.Context, id string) (rbac.Assignment, error)
	ListAssignments(ctx context.Context, scope string, f rbac.AssignmentFilter) ([]rbac.Assignment, error)
	ListAssignmentsPage(ctx context.Context, scope string, f rbac.AssignmentFilter, after string, limit int) (rbac.AssignmentPage, error)
	RoleDefinition(ctx context.Context, scope, idOrGUID string) (rbac.RoleDefinition, error)
	ListRoleDefinitions(ctx context.Context, scope string, f rbac.RoleDefinitionFilter) ([]rbac.RoleDefinition, error)
	PutRoleDefinition(ctx context.Context, scope string, def rbac.RoleDefinition) (rbac.RoleDefinition, error)
	DeleteRoleDefinition(ctx context.Context, scope, idOrGUID string) (rbac.RoleDefinition, error)
}

// Principals tells whether a directory object exists (assignments to
// unknown principals are refused, as Azure does).
type Principals interface {
	PrincipalExists(ctx context.Context, tenantID, objectID string) (bool, error)
}

// permissions serves GET {scope}/providers/Microsoft.Authorization/permissions:
// the caller's own permissions at scope, one block per role it holds there
// or above. Clients that cannot try an action first (a registry pull, a
// portal button) read them. Unlike decisions, the list does not wait for
// propagation, as in Azure, where it too is read from the assignments.
func (h *Handler) permissions(c *call) error {
	list, err := h.roles.ListAssignments(c.ctx(), c.scope, rbac.AssignmentFilter{AssignedTo: c.p.ObjectID, Groups: c.ids[1:], AtScope: true})
	if err != nil {
		return err
	}
	out := []rbac.Permission{}
	for _, a := range list {
		d, err := h.roles.RoleDefinition(c.ctx(), c.scope, a.RoleDefinitionID)
		if err != nil {
			continue // a custom role deleted under its assignment grants nothing
		}
		out = append(out, d.Permissions...)
	}
	return c.list(out, nil)
}

type assignmentBody struct {
	Properties struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		PrincipalType    string `json:"principalType"`
		Description      string `json:"description"`
	} `json:"properties"`
}

func assignmentJSON(a rbac.Assignment) map[string]any {
	updated := a.UpdatedOn
	if updated.IsZero() {
		updated = a.CreatedOn
	}
	return map[string]any{"id": a.ID, "name": a.Name(), "type": "Microsoft.Authorization/roleAssignments",
		"properties": map[string]any{"roleDefinitionId": a.RoleDefinitionID, "principalId": a.PrincipalID,
			"principalType": a.PrincipalType, "scope": a.Scope, "description": a.Description, "condition": nil,
			"conditionVersion": nil, "createdOn": a.CreatedOn, "updatedOn": updated, "createdBy": a.CreatedBy, "updatedBy": a.CreatedBy}}
}

// assignmentID is {scope}/providers/Microsoft.Authorization/roleAssignments/{name} of the path.
func assignmentID(c *call) string {
	return strings.TrimRight(c.scope, "/") + "/providers/Microsoft.Authorization/roleAssignments/" + c.authzName()
}

func (h *Handler) listAssignments(c *call) error {
	f, err := rbac.ParseAssignmentFilter(c.r.URL.Query().Get("$filter"))
	if err != nil {
		return err
	}
	if f.AssignedTo != "" {
		if f.Groups, err = h.groups.TransitiveGroups(c.ctx(), c.p.TenantID, f.AssignedTo); err != nil {
			return err
		}
	}
	q := c.r.URL.Query()
	page, err := h.roles.ListAssignmentsPage(c.ctx(), c.scope, f, q.Get("$skipToken"), assignmentPageSize)
	if err != nil {
		return err
	}
	out := map[string]any{"value": each(page.Items, assignmentJSON)}
	if page.Next != "" {
		q.Set("$skipToken", page.Next)
		out["nextLink"] = c.base + c.r.URL.Path + "?" + q.Encode()
	}
	return c.json(http.StatusOK, out)
}

// assignmentPageSize bounds a page of role assignments; the rest follow
// by nextLink, which the SDKs' pagers and az follow.
var assignmentPageSize = 1000

func (h *Handler) getAssignment(c *call) error {
	a, err := h.roles.Assignment(c.ctx(), assignmentID(c))
	return c.reply(ifOK(a, err, assignmentJSON), err)
}

func (h *Handler) putAssignment(c *call) error {
	var body assignmentBody
	if err := decode(c, &body); err != nil {
		return err
	}
	p := body.Properties
	if ok, err := h.principals.PrincipalExists(c.ctx(), c.p.TenantID, p.PrincipalID); err != nil || !ok {
		if err == nil {
			err = azerr.New(azerr.Invalid, "PrincipalNotFound", "Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.", strings.ReplaceAll(p.PrincipalID, "-", ""), c.p.TenantID)
		}
		return err
	}
	a, err := h.roles.CreateAssignment(c.ctx(), rbac.AssignmentSpec{Name: c.authzName(), Scope: c.scope, RoleDefinitionID: p.RoleDefinitionID,
		PrincipalID: p.PrincipalID, PrincipalType: p.PrincipalType, Description: p.Description, CreatedBy: c.p.ObjectID})
	return created(c, a, err, assignmentJSON)
}

func (h *Handler) deleteAssignment(c *call) error {
	a, err := h.roles.DeleteAssignment(c.ctx(), assignmentID(c))
	if rbac.IsCode(err, rbac.CodeRoleAssignmentNotFound) {
		return c.empty(http.StatusNoContent) // ARM deletes idempotently
	}
	return c.reply(ifOK(a, err, assignmentJSON), err)
}

type definitionBody struct {
	Properties rbac.RoleDefinition `json:"properties"`
}

func definitionJSON(d rbac.RoleDefinition) map[string]any {
	return map[string]any{"id": d.ID, "name": d.Name, "type": "Microsoft.Authorization/roleDefinitions",
		"properties": map[string]any{"roleName": d.RoleName, "type": d.Type, "description": d.Description,
			"assignableScopes": d.AssignableScopes, "permissions": d.Permissions, "createdOn": d.CreatedOn, "updatedOn": d.UpdatedOn}}
}

func (h *Handler) listDefinitions(c *call) error {
	f, err := rbac.ParseRoleDefinitionFilter(c.r.URL.Query().Get("$filter"))
	if err != nil {
		return err
	}
	list, err := h.roles.ListRoleDefinitions(c.ctx(), c.scope, f)
	return c.list(each(list, definitionJSON), err)
}

func (h *Handler) getDefinition(c *call) error {
	d, err := h.roles.RoleDefinition(c.ctx(), c.scope, c.authzName())
	return c.reply(ifOK(d, err, definitionJSON), err)
}

func (h *Handler) putDefinition(c *call) error {
	var body definitionBody
	if err := decode(c, &body); err != nil {
		return err
	}
	body.Properties.Name = c.authzName()
	// Every assignable scope must be real, and the caller must be allowed
	// to write roles there too, as Azure requires.
	for _, as := range body.Properties.AssignableScopes {
		if err := h.scopeExists(c, as); err != nil {
			return err
		}
		if err := h.allow(c, actDefinitionWrite, as); err != nil {
			return err
		}
	}
	d, err := h.roles.PutRoleDefinition(c.ctx(), c.scope, body.Properties)
	return created(c, d, err, definitionJSON)
}

func (h *Handler) deleteDefinition(c *call) error {
	d, err := h.roles.DeleteRoleDefinition(c.ctx(), c.scope, c.authzName())
	return c.reply(ifOK(d, err, definitionJSON), err)
}

func ifOK[T any](v T, err error, f func(T) map[string]any) any {
	if err != nil {
		return nil
	}
	return f(v)
}

// each renders every item of a list, never null.
func each[T any](list []T, f func(T) map[string]any) []any {
	out := []any{}
	for _, v := range list {
		out = append(out, f(v))
	}
	return out
}

// created answers 201 with f(v), or returns err.
func created[T any](c *call, v T, err error, f func(T) map[string]any) error {
	if err != nil {
		return err
	}
	return c.json(http.StatusCreated, f(v))
}
