package graph

import (
	"strings"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
)

// App role assignments: application permissions given to service
// principals (Graph's own among them) and app roles given to users and
// groups, from either side: what a principal holds (appRoleAssignments)
// and what is assigned on a resource (appRoleAssignedTo).

var roleAssignmentWriters = []string{"AppRoleAssignment.ReadWrite.All", "Directory.ReadWrite.All"}

var roleAssignmentEntity = entity{name: "AppRoleAssignment", props: map[string]propKind{
	"principalId": kString, "resourceId": kString, "appRoleId": kString,
	"id": kReadOnly, "principalType": kReadOnly, "principalDisplayName": kReadOnly, "resourceDisplayName": kReadOnly,
	"createdDateTime": kReadOnly, "deletedDateTime": kReadOnly,
}}

var roleAssignmentSchema = odata.Schema{Type: "appRoleAssignment", Props: map[string]odata.Kind{
	"id": odata.String, "appRoleId": odata.String, "principalId": odata.String, "resourceId": odata.String,
	"principalType": odata.String, "principalDisplayName": odata.String, "resourceDisplayName": odata.String,
}}

// roleAssignmentValues filters on what Graph renders.
func roleAssignmentValues(a directory.AppRoleAssignment) odata.Values {
	return odata.Values(roleAssignmentJSON(a))
}

func roleAssignmentJSON(a directory.AppRoleAssignment) obj {
	return obj{"id": a.ID, "deletedDateTime": nil, "appRoleId": a.AppRoleID,
		"createdDateTime": graphTime(a.Created.Truncate(time.Second)), "principalDisplayName": a.PrincipalDisplayName,
		"principalId": a.PrincipalID, "principalType": a.PrincipalType, "resourceDisplayName": a.ResourceDisplayName,
		"resourceId": a.ResourceID}
}

// assignmentSide is "principal" for …/appRoleAssignments and "resource"
// for …/appRoleAssignedTo.
func assignmentSide(set string) string {
	if set == "appRoleAssignedTo" {
		return "resource"
	}
	return "principal"
}

func (h *Handler) listRoleAssignments(root, set string) func(*call) error {
	return func(c *call) error {
		id, err := h.principal(c, root)
		if err != nil {
			return err
		}
		as, err := h.dir.AppRoleAssignments(c.ctx(), c.tenant, assignmentSide(set), id)
		if err != nil {
			return err
		}
		return list(c, listing[directory.AppRoleAssignment]{set: root + "('" + id + "')/" + set, schema: roleAssignmentSchema,
			values: roleAssignmentValues, render: roleAssignmentJSON, page: pageOf(as)})
	}
}

// createRoleAssignment takes principalId, resourceId and appRoleId; the
// path's object must be the principal (appRoleAssignments) or the
// resource (appRoleAssignedTo) the body names.
func (h *Handler) createRoleAssignment(root, set string) func(*call) error {
	return func(c *call) error {
		id, err := h.principal(c, root)
		if err != nil {
			return err
		}
		e := roleAssignmentEntity
		b, err := readBody(c)
		if err != nil {
			return err
		}
		if _, err := e.check(b); err != nil {
			return err
		}
		var a directory.AppRoleAssignment
		for _, f := range []struct {
			name string
			to   *string
		}{{"principalId", &a.PrincipalID}, {"resourceId", &a.ResourceID}, {"appRoleId", &a.AppRoleID}} {
			v, err := e.str(b, f.name)
			if err != nil {
				return err
			}
			if v == nil {
				return e.invalid(f.name)
			}
			*f.to = *v
		}
		pathSide, name := &a.PrincipalID, "principalId"
		if assignmentSide(set) == "resource" {
			pathSide, name = &a.ResourceID, "resourceId"
		}
		if !strings.EqualFold(*pathSide, id) {
			return badRequest("The " + name + " in the request body must be the object the request is addressed to.")
		}
		a, err = h.dir.AssignAppRole(c.ctx(), c.tenant, a)
		if err != nil {
			return err
		}
		m := roleAssignmentJSON(a)
		m["@odata.context"] = c.context(root + "('" + id + "')/" + set + "/$entity")
		return c.created(root+"/"+id+"/"+set+"/"+a.ID, m)
	}
}

func (h *Handler) deleteRoleAssignment(root, set string) func(*call) error {
	return func(c *call) error {
		id, err := h.principal(c, root)
		if err != nil {
			return err
		}
		if err := h.dir.RemoveAppRoleAssignment(c.ctx(), c.tenant, assignmentSide(set), id, c.r.PathValue("assignment")); err != nil {
			return err
		}
		return c.noContent()
	}
}
