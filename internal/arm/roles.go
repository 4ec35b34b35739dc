package arm

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/rbac"
)

// RoleService is the RBAC administration the face drives.
type RoleService interface {
	CreateAssignment(ctx context.Context, spec rbac.AssignmentSpec) (rbac.Assignment, error)
	Assignment(ctx context.Context, id string) (rbac.Assignment, error)
	DeleteAssignment(ctx context.Context, id string) (rbac.Assignment, error)
	ListAssignments(ctx context.Context, scope string, f rbac.AssignmentFilter) ([]rbac.Assignment, error)
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

// authorization serves …/providers/Microsoft.Authorization/… at any
// scope; i is the index of "providers" in the path.
func (h *Handler) authorization(c *call, i int) {
	rest := c.low[i+2:]
	if len(rest) == 0 || len(rest) > 2 || (rest[0] != "roleassignments" && rest[0] != "roledefinitions" && rest[0] != "permissions") ||
		(rest[0] == "permissions" && len(rest) != 1) {
		writeError(c.w, notFoundPath(c))
		return
	}
	typ := map[string]string{"roleassignments": "roleAssignments", "roledefinitions": "roleDefinitions", "permissions": "permissions"}[rest[0]]
	if !h.checkVersion(c, "Microsoft.Authorization", typ) {
		return
	}
	scope := "/" + strings.Join(c.segs[:i], "/")
	if !h.scopeExists(c, scope) {
		return
	}
	if typ == "permissions" {
		h.permissions(c, scope)
		return
	}
	name := ""
	if len(rest) == 2 {
		name = c.segs[i+3]
	}
	if typ == "roleAssignments" {
		h.roleAssignments(c, scope, name)
	} else {
		h.roleDefinitions(c, scope, name)
	}
}

// scopeExists checks the scope parses, its subscription is the caller's
// and its resource group exists.
func (h *Handler) scopeExists(c *call, scope string) bool {
	id, err := armid.Parse(scope)
	if err != nil {
		h.fail(c, err)
		return false
	}
	if id.SubscriptionID() == "" {
		return true
	}
	if _, err := h.res.Subscription(c.r.Context(), c.p.TenantID, id.SubscriptionID()); err != nil {
		h.fail(c, err)
		return false
	}
	if id.ResourceGroup() != "" {
		if _, err := h.res.GetGroup(c.r.Context(), id.SubscriptionID(), id.ResourceGroup()); err != nil {
			h.fail(c, err)
			return false
		}
	}
	return true
}

// permissions serves GET {scope}/providers/Microsoft.Authorization/permissions:
// the caller's own permissions at scope, one block per role it holds there
// or above. Clients that cannot try an action first (a registry pull, a
// portal button) read them. Unlike decisions, the list does not wait for
// propagation, as in Azure, where it too is read from the assignments.
func (h *Handler) permissions(c *call, scope string) {
	if c.r.Method != http.MethodGet {
		methodNotAllowed(c)
		return
	}
	ctx := c.r.Context()
	list, err := h.roles.ListAssignments(ctx, scope, rbac.AssignmentFilter{AssignedTo: c.p.ObjectID, Groups: c.ids[1:], AtScope: true})
	if err != nil {
		h.fail(c, err)
		return
	}
	out := []rbac.Permission{}
	for _, a := range list {
		d, err := h.roles.RoleDefinition(ctx, scope, a.RoleDefinitionID)
		if err != nil {
			continue // a custom role deleted under its assignment grants nothing
		}
		out = append(out, d.Permissions...)
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
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

func (h *Handler) roleAssignments(c *call, scope, name string) {
	ctx := c.r.Context()
	const read, write, del = "Microsoft.Authorization/roleAssignments/read", "Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"
	id := strings.TrimRight(scope, "/") + "/providers/Microsoft.Authorization/roleAssignments/" + name
	switch {
	case name == "" && c.r.Method == http.MethodGet:
		if !h.allow(c, read, scope) {
			return
		}
		f, err := rbac.ParseAssignmentFilter(c.r.URL.Query().Get("$filter"))
		if err != nil {
			h.fail(c, err)
			return
		}
		if f.AssignedTo != "" {
			if f.Groups, err = h.groups.TransitiveGroups(ctx, c.p.TenantID, f.AssignedTo); err != nil {
				h.fail(c, err)
				return
			}
		}
		list, err := h.roles.ListAssignments(ctx, scope, f)
		if err != nil {
			h.fail(c, err)
			return
		}
		out := []any{}
		for _, a := range list {
			out = append(out, assignmentJSON(a))
		}
		writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
	case name != "" && c.r.Method == http.MethodGet:
		if !h.allow(c, read, scope) {
			return
		}
		a, err := h.roles.Assignment(ctx, id)
		h.render(c, ifOK(a, err, assignmentJSON), err)
	case name != "" && c.r.Method == http.MethodPut:
		if !h.allow(c, write, scope) {
			return
		}
		var body assignmentBody
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		p := body.Properties
		if ok, err := h.principals.PrincipalExists(ctx, c.p.TenantID, p.PrincipalID); err != nil || !ok {
			if err == nil {
				err = azerr.New(azerr.Invalid, "PrincipalNotFound", "Principal %s does not exist in the directory %s. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.", strings.ReplaceAll(p.PrincipalID, "-", ""), c.p.TenantID)
			}
			h.fail(c, err)
			return
		}
		a, err := h.roles.CreateAssignment(ctx, rbac.AssignmentSpec{Name: name, Scope: scope, RoleDefinitionID: p.RoleDefinitionID,
			PrincipalID: p.PrincipalID, PrincipalType: p.PrincipalType, Description: p.Description, CreatedBy: c.p.ObjectID})
		if err != nil {
			h.fail(c, err)
			return
		}
		writeJSON(c.w, http.StatusCreated, assignmentJSON(a))
	case name != "" && c.r.Method == http.MethodDelete:
		if !h.allow(c, del, scope) {
			return
		}
		a, err := h.roles.DeleteAssignment(ctx, id)
		if rbac.IsCode(err, rbac.CodeRoleAssignmentNotFound) {
			c.w.WriteHeader(http.StatusNoContent) // ARM deletes idempotently
			return
		}
		h.render(c, ifOK(a, err, assignmentJSON), err)
	default:
		methodNotAllowed(c)
	}
}

type definitionBody struct {
	Properties rbac.RoleDefinition `json:"properties"`
}

func definitionJSON(d rbac.RoleDefinition) map[string]any {
	return map[string]any{"id": d.ID, "name": d.Name, "type": "Microsoft.Authorization/roleDefinitions",
		"properties": map[string]any{"roleName": d.RoleName, "type": d.Type, "description": d.Description,
			"assignableScopes": d.AssignableScopes, "permissions": d.Permissions, "createdOn": d.CreatedOn, "updatedOn": d.UpdatedOn}}
}

func (h *Handler) roleDefinitions(c *call, scope, name string) {
	ctx := c.r.Context()
	const read, write, del = "Microsoft.Authorization/roleDefinitions/read", "Microsoft.Authorization/roleDefinitions/write", "Microsoft.Authorization/roleDefinitions/delete"
	switch {
	case name == "" && c.r.Method == http.MethodGet:
		f, err := rbac.ParseRoleDefinitionFilter(c.r.URL.Query().Get("$filter"))
		if err != nil {
			h.fail(c, err)
			return
		}
		list, err := h.roles.ListRoleDefinitions(ctx, scope, f)
		if err != nil {
			h.fail(c, err)
			return
		}
		out := []any{}
		for _, d := range list {
			out = append(out, definitionJSON(d))
		}
		writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
	case name != "" && c.r.Method == http.MethodGet:
		// Every principal may read role definitions, as in Azure.
		d, err := h.roles.RoleDefinition(ctx, scope, name)
		h.render(c, ifOK(d, err, definitionJSON), err)
	case name != "" && c.r.Method == http.MethodPut:
		if !h.allow(c, write, scope) {
			return
		}
		var body definitionBody
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		body.Properties.Name = name
		// Every assignable scope must be real, and the caller must be
		// allowed to write roles there too, as Azure requires.
		for _, as := range body.Properties.AssignableScopes {
			if !h.scopeExists(c, as) || !h.allow(c, write, as) {
				return
			}
		}
		d, err := h.roles.PutRoleDefinition(ctx, scope, body.Properties)
		if err != nil {
			h.fail(c, err)
			return
		}
		writeJSON(c.w, http.StatusCreated, definitionJSON(d))
	case name != "" && c.r.Method == http.MethodDelete:
		if !h.allow(c, del, scope) {
			return
		}
		d, err := h.roles.DeleteRoleDefinition(ctx, scope, name)
		h.render(c, ifOK(d, err, definitionJSON), err)
	default:
		methodNotAllowed(c)
	}
}

func ifOK[T any](v T, err error, f func(T) map[string]any) any {
	if err != nil {
		return nil
	}
	return f(v)
}

// rbacKinds maps the RBAC domain's codes to refusal kinds.
var rbacKinds = map[string]azerr.Kind{
	rbac.CodeAuthorizationFailed: azerr.Forbidden, rbac.CodeRoleAssignmentExists: azerr.Conflict,
	rbac.CodeRoleAssignmentNotFound: azerr.NotFound, rbac.CodeRoleDefinitionDoesNotExist: azerr.NotFound,
	rbac.CodeRoleDefinitionHasAssignments: azerr.Conflict, rbac.CodeRoleDefinitionWithSameNameExists: azerr.Conflict,
}

// domainError turns the other domains' errors into refusals.
func domainError(err error) (*azerr.Error, bool) {
	var re *rbac.Error
	if errors.As(err, &re) {
		kind, ok := rbacKinds[re.Code]
		if !ok {
			kind = azerr.Invalid
		}
		return &azerr.Error{Kind: kind, Code: re.Code, Message: re.Message}, true
	}
	var me *armid.MalformedError
	if errors.As(err, &me) {
		return azerr.New(azerr.Invalid, "InvalidResourceId", "Resource id '%s' is invalid: %s", me.ID, me.Reason), true
	}
	return nil, false
}
