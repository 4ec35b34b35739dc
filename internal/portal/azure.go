package portal

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/rbac"
)

// The api-versions the portal sends, each one Azure's portal sends too.
const (
	subscriptionsVersion = "2022-12-01"
	authzVersion         = "2022-04-01"
	identitiesVersion    = "2023-01-31"
	clustersVersion      = "2024-05-01"
)

type subscription struct {
	SubscriptionID string `json:"subscriptionId"`
	DisplayName    string `json:"displayName"`
}

// subscriptions are those the user has a role in or under, as Resource
// Manager lists them.
func (h *Handler) subscriptions(ctx context.Context, s *session) ([]subscription, error) {
	subs, err := list[subscription](ctx, h, s, armAPI, "/subscriptions?api-version="+subscriptionsVersion)
	slices.SortFunc(subs, func(a, b subscription) int { return strings.Compare(a.DisplayName, b.DisplayName) })
	return subs, err
}

// permission is one block of the permissions endpoint's answer.
type permission struct {
	Actions    []string `json:"actions"`
	NotActions []string `json:"notActions"`
}

// may asks Resource Manager, with the user's token, whether the user's
// roles at scope allow action: the permissions endpoint is RBAC's own
// answer, read as Azure's portal reads it to enable a button. A scope the
// user cannot see allows nothing; found is false when it does not exist.
func (h *Handler) may(ctx context.Context, s *session, scope, action string) (allowed, found bool, err error) {
	perms, err := list[permission](ctx, h, s, armAPI, scope+"/providers/Microsoft.Authorization/permissions?api-version="+authzVersion)
	var re *refusal
	if errors.As(err, &re) && (re.status == http.StatusForbidden || re.status == http.StatusNotFound) {
		return false, re.status != http.StatusNotFound, nil
	}
	if err != nil {
		return false, false, err
	}
	for _, p := range perms {
		if slices.ContainsFunc(p.Actions, func(a string) bool { return rbac.ActionMatches(a, action) }) &&
			!slices.ContainsFunc(p.NotActions, func(a string) bool { return rbac.ActionMatches(a, action) }) {
			return true, true, nil
		}
	}
	return false, true, nil
}

type roleAssignment struct {
	ID         string `json:"id"`
	Properties struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		PrincipalType    string `json:"principalType"`
		Scope            string `json:"scope"`
	} `json:"properties"`
}

type roleDefinition struct {
	ID         string `json:"id"`
	Properties struct {
		RoleName string `json:"roleName"`
	} `json:"properties"`
}

// assignmentRow is one role assignment as the roles view shows it.
type assignmentRow struct {
	Role, Principal, Kind, Detail string
}

type scopeView struct {
	Scope string
	Rows  []assignmentRow
}

type subscriptionRoles struct {
	subscription
	Scopes []scopeView
	Denied string // why nothing is shown
}

// roles shows every role assignment the user may read, by scope.
func (h *Handler) roles(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	subs, err := h.subscriptions(ctx, s)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	views := make([]subscriptionRoles, 0, len(subs))
	for _, sub := range subs {
		v, err := h.subscriptionRoles(ctx, s, sub)
		if err != nil {
			h.failed(w, r, err)
			return
		}
		views = append(views, v)
	}
	h.render(w, http.StatusOK, rolesPage, map[string]any{"C": h.chrome(s, "Role assignments", "roles"), "Subs": views})
}

func (h *Handler) subscriptionRoles(ctx context.Context, s *session, sub subscription) (subscriptionRoles, error) {
	v := subscriptionRoles{subscription: sub}
	base := "/subscriptions/" + sub.SubscriptionID + "/providers/Microsoft.Authorization/"
	assignments, err := list[roleAssignment](ctx, h, s, armAPI, base+"roleAssignments?api-version="+authzVersion)
	if denied(err) {
		v.Denied = err.Error()
		return v, nil
	}
	if err != nil {
		return v, err
	}
	defs, err := list[roleDefinition](ctx, h, s, armAPI, base+"roleDefinitions?api-version="+authzVersion)
	if err != nil && !denied(err) {
		return v, err
	}
	roleNames := map[string]string{}
	for _, d := range defs {
		roleNames[strings.ToLower(lastSegment(d.ID))] = d.Properties.RoleName
	}
	ids := make([]string, 0, len(assignments))
	for _, a := range assignments {
		ids = append(ids, a.Properties.PrincipalID)
	}
	principals, err := h.objectsByID(ctx, s, ids)
	if err != nil {
		return v, err
	}
	byScope := map[string][]assignmentRow{}
	for _, a := range assignments {
		row := assignmentRow{Role: roleNames[strings.ToLower(lastSegment(a.Properties.RoleDefinitionID))], Kind: a.Properties.PrincipalType,
			Principal: a.Properties.PrincipalID, Detail: "not in the directory"}
		if row.Role == "" {
			row.Role = lastSegment(a.Properties.RoleDefinitionID)
		}
		if p, ok := principals[strings.ToLower(a.Properties.PrincipalID)]; ok {
			row.Principal, row.Kind, row.Detail = p.DisplayName, p.Kind(), p.Detail()
		}
		byScope[a.Properties.Scope] = append(byScope[a.Properties.Scope], row)
	}
	for scope, rows := range byScope {
		slices.SortFunc(rows, func(a, b assignmentRow) int {
			return strings.Compare(strings.ToLower(a.Role+"\x00"+a.Principal), strings.ToLower(b.Role+"\x00"+b.Principal))
		})
		v.Scopes = append(v.Scopes, scopeView{Scope: scope, Rows: rows})
	}
	// Broader scopes first: the management group or subscription, then
	// its groups and their resources.
	slices.SortFunc(v.Scopes, func(a, b scopeView) int {
		if d := strings.Count(a.Scope, "/") - strings.Count(b.Scope, "/"); d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(a.Scope), strings.ToLower(b.Scope))
	})
	return v, nil
}

// objectsByID reads directory objects with Graph's getByIds, 1,000 at a time.
func (h *Handler) objectsByID(ctx context.Context, s *session, ids []string) (map[string]directoryObject, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := map[string]directoryObject{}
	for chunk := range slices.Chunk(ids, 1000) {
		var page struct {
			Value []directoryObject `json:"value"`
		}
		if err := h.call(ctx, s, graphAPI, http.MethodPost, "/v1.0/directoryObjects/getByIds", map[string]any{"ids": chunk}, &page); err != nil {
			return nil, err
		}
		for _, o := range page.Value {
			out[strings.ToLower(o.ID)] = o
		}
	}
	return out, nil
}

// denied tells a refusal to read (the user's roles do not reach there).
func denied(err error) bool {
	var re *refusal
	return errors.As(err, &re) && re.status == http.StatusForbidden
}

func lastSegment(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

// resourceGroupOf is the resource group named in a resource ID.
func resourceGroupOf(id string) string {
	segs := strings.Split(id, "/")
	for i := 0; i+1 < len(segs); i++ {
		if strings.EqualFold(segs[i], "resourceGroups") {
			return segs[i+1]
		}
	}
	return ""
}

// readAction is the read action of the resource type an ID names:
// {namespace}/{type}[/{child type}…]/read.
func readAction(id string) string {
	_, after, ok := strings.Cut(strings.ToLower(id), "/providers/")
	if !ok {
		return "Microsoft.Resources/subscriptions/resourceGroups/read"
	}
	segs := strings.Split(after, "/")
	parts := []string{segs[0]}
	for i := 1; i < len(segs); i += 2 {
		parts = append(parts, segs[i])
	}
	return strings.Join(parts, "/") + "/read"
}
