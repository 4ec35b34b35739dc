package portal

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// graphApp is an application as Graph lists it, with its credentials.
type graphApp struct {
	ID                  string      `json:"id"`
	AppID               string      `json:"appId"`
	DisplayName         string      `json:"displayName"`
	PasswordCredentials []graphCred `json:"passwordCredentials"`
	KeyCredentials      []graphCred `json:"keyCredentials"`
}

type graphCred struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	SecretText    string    `json:"secretText"` // addPassword's answer only
}

// directoryObject is a user, group or service principal as Graph lists it.
type directoryObject struct {
	Type              string `json:"@odata.type"`
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
	AppID             string `json:"appId"`
	AccountEnabled    *bool  `json:"accountEnabled"`
	Mail              string `json:"mail"`
}

// Kind names the object's type for a person: User, Group, Service principal.
func (o directoryObject) Kind() string {
	switch strings.TrimPrefix(o.Type, "#microsoft.graph.") {
	case "user":
		return "User"
	case "group":
		return "Group"
	case "servicePrincipal":
		return "Service principal"
	case "directoryRole":
		return "Directory role"
	}
	return strings.TrimPrefix(o.Type, "#microsoft.graph.")
}

// Detail is what tells the object apart besides its name.
func (o directoryObject) Detail() string {
	switch {
	case o.UserPrincipalName != "":
		return o.UserPrincipalName
	case o.AppID != "":
		return "Application ID " + o.AppID
	}
	return o.ID
}

func byName(a, b directoryObject) int {
	return strings.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName))
}

// users lists the tenant's users.
func (h *Handler) users(w http.ResponseWriter, r *http.Request, s *session) {
	users, err := list[directoryObject](r.Context(), h, s, graphAPI, "/v1.0/users?$select=id,displayName,userPrincipalName,accountEnabled")
	if err != nil {
		h.failed(w, r, err)
		return
	}
	slices.SortFunc(users, byName)
	h.render(w, http.StatusOK, usersPage, map[string]any{"C": h.chrome(s, "Users", "users"), "Users": users})
}

type groupView struct {
	directoryObject
	Members []directoryObject
}

// groups lists the tenant's groups with their direct members.
func (h *Handler) groups(w http.ResponseWriter, r *http.Request, s *session) {
	groups, err := list[directoryObject](r.Context(), h, s, graphAPI, "/v1.0/groups")
	if err != nil {
		h.failed(w, r, err)
		return
	}
	slices.SortFunc(groups, byName)
	views := make([]groupView, 0, len(groups))
	for _, g := range groups {
		members, err := list[directoryObject](r.Context(), h, s, graphAPI, "/v1.0/groups/"+url.PathEscape(g.ID)+"/members")
		if err != nil {
			h.failed(w, r, err)
			return
		}
		slices.SortFunc(members, byName)
		views = append(views, groupView{g, members})
	}
	h.render(w, http.StatusOK, groupsPage, map[string]any{"C": h.chrome(s, "Groups", "groups"), "Groups": views})
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// resetSecret does what `az ad app credential reset` does, with the
// user's own token: a new secret for the application and, unless asked to
// keep them, the others removed. Graph decides who may; the portal asks
// first only to say so plainly. The new secret is shown once.
func (h *Handler) resetSecret(w http.ResponseWriter, r *http.Request) {
	s := h.signed(w, r)
	if s == nil {
		return
	}
	id := r.PostForm.Get("app")
	if !guidPattern.MatchString(id) {
		h.fail(w, http.StatusBadRequest, "Choose an application from the list.")
		return
	}
	writer, err := h.isGlobalAdmin(r.Context(), s)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	if !writer {
		h.fail(w, http.StatusForbidden, "Resetting an application's secret needs the Global Administrator role.")
		return
	}
	var app graphApp
	if err := h.call(r.Context(), s, graphAPI, http.MethodGet, "/v1.0/applications/"+id, nil, &app); err != nil {
		h.refused(w, r, err, "The application could not be read")
		return
	}
	added, err := h.addSecret(r.Context(), s, app, r.PostForm.Get("keep") == "on")
	if err != nil {
		h.refused(w, r, err, "The secret could not be reset")
		return
	}
	h.o.Log.InfoContext(r.Context(), "portal: application secret reset", "app", app.AppID, "keyId", added.KeyID, "user", s.name)
	h.render(w, http.StatusOK, secretPage, map[string]any{"C": h.chrome(s, "New secret", "apps"), "App": app, "Secret": added,
		"Ends": day(added.EndDateTime)})
}

func (h *Handler) addSecret(ctx context.Context, s *session, app graphApp, keep bool) (graphCred, error) {
	var added graphCred
	if err := h.call(ctx, s, graphAPI, http.MethodPost, "/v1.0/applications/"+app.ID+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "reset in the aksid portal by " + s.name}}, &added); err != nil {
		return added, err
	}
	if keep {
		return added, nil
	}
	for _, p := range app.PasswordCredentials {
		if err := h.call(ctx, s, graphAPI, http.MethodPost, "/v1.0/applications/"+app.ID+"/removePassword",
			map[string]any{"keyId": p.KeyID}, nil); err != nil {
			return added, err
		}
	}
	return added, nil
}

// refused shows an API's refusal of a change in its own words.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, err error, what string) {
	var re *refusal
	if errors.As(err, &re) && re.status != http.StatusUnauthorized && re.status < 500 {
		h.fail(w, re.status, what+": "+re.Error())
		return
	}
	h.failed(w, r, err)
}
