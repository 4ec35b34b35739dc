// Package graph is the HTTP face of Microsoft Graph v1.0: applications,
// service principals, users, groups and directory objects, as az 2.45 and
// the SDKs call them. Handlers decode, check the caller, call the
// directory and render Graph's shapes; the rules live in the directory.
package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
)

// MaxBodyBytes bounds a Graph request body.
const MaxBodyBytes = 1 << 20

// Directory is what the face needs from the directory.
type Directory interface {
	CachedTenant(ctx context.Context, idOrDomain string) (directory.Tenant, error)
	IsAdministrator(ctx context.Context, tenantID, objectID string) (bool, error)

	Application(ctx context.Context, appID string) (directory.Application, error)
	RegisterApplication(ctx context.Context, tenantID string, spec directory.ApplicationSpec) (directory.Application, error)
	ApplicationPage(ctx context.Context, tenantID string, q directory.Query[directory.Application]) (directory.Page[directory.Application], error)
	ApplicationByObjectID(ctx context.Context, tenantID, objectID string) (directory.Application, error)
	UpdateApplication(ctx context.Context, tenantID, objectID string, p directory.ApplicationPatch) (directory.Application, error)
	DeleteApplication(ctx context.Context, tenantID, objectID string) error

	CreateServicePrincipal(ctx context.Context, tenantID string, spec directory.ServicePrincipalSpec) (directory.ServicePrincipal, error)
	ServicePrincipalPage(ctx context.Context, tenantID string, q directory.Query[directory.ServicePrincipal]) (directory.Page[directory.ServicePrincipal], error)
	ServicePrincipalByObjectID(ctx context.Context, tenantID, objectID string) (directory.ServicePrincipal, error)
	UpdateServicePrincipal(ctx context.Context, tenantID, objectID string, p directory.ServicePrincipalPatch) (directory.ServicePrincipal, error)
	DeleteServicePrincipal(ctx context.Context, tenantID, objectID string) error

	AddPasswordTo(ctx context.Context, tenantID, objectType, objectID string, spec directory.PasswordSpec) (directory.AddedPassword, error)
	RemovePassword(ctx context.Context, tenantID, objectType, objectID, keyID string) error
	AddCertificateTo(ctx context.Context, tenantID, objectType, objectID string, spec directory.KeyCredentialSpec, clientNow time.Time) (directory.KeyCredential, error)
	RemoveCertificate(ctx context.Context, tenantID, objectType, objectID, keyID string) error
	CheckKeyProof(ctx context.Context, tenantID, objectType, objectID string, p directory.KeyProof) error
	CreateFederatedCredential(ctx context.Context, appID string, fc directory.FederatedCredential) (directory.FederatedCredential, error)
	UpdateFederatedCredential(ctx context.Context, appID, ref string, change func(*directory.FederatedCredential)) (directory.FederatedCredential, error)
	DeleteFederatedCredential(ctx context.Context, appID, ref string) error

	CreateUser(ctx context.Context, tenantID string, spec directory.UserSpec) (directory.User, error)
	UserPage(ctx context.Context, tenantID string, q directory.Query[directory.User]) (directory.Page[directory.User], error)
	User(ctx context.Context, tenantID, idOrUPN string) (directory.User, error)
	ServicePrincipal(ctx context.Context, tenantID, appID string) (directory.ServicePrincipal, error)
	UpdateUser(ctx context.Context, tenantID, idOrUPN string, p directory.UserPatch) (directory.User, error)
	DeleteUser(ctx context.Context, tenantID, idOrUPN string) error
	RevokeSignInSessions(ctx context.Context, tenantID, idOrUPN string) error

	CreateGroup(ctx context.Context, tenantID string, spec directory.GroupSpec) (directory.Group, error)
	GroupPage(ctx context.Context, tenantID string, q directory.Query[directory.Group]) (directory.Page[directory.Group], error)
	Group(ctx context.Context, tenantID, id string) (directory.Group, error)
	DeleteGroup(ctx context.Context, tenantID, id string) error
	AddOwner(ctx context.Context, tenantID, objectType, objectID, ownerID string) error
	RemoveOwner(ctx context.Context, tenantID, objectType, objectID, ownerID string) error
	Owners(ctx context.Context, tenantID, objectType, objectID string) ([]directory.Object, error)
	OwnedObjects(ctx context.Context, tenantID, ownerID string) ([]directory.Object, error)
	AssignAppRole(ctx context.Context, tenantID string, a directory.AppRoleAssignment) (directory.AppRoleAssignment, error)
	AppRoleAssignments(ctx context.Context, tenantID, side, objectID string) ([]directory.AppRoleAssignment, error)
	RemoveAppRoleAssignment(ctx context.Context, tenantID, side, objectID, id string) error
	CreatePermissionGrant(ctx context.Context, tenantID string, g directory.PermissionGrant) (directory.PermissionGrant, error)
	PermissionGrants(ctx context.Context, tenantID string) ([]directory.PermissionGrant, error)
	PermissionGrant(ctx context.Context, tenantID, id string) (directory.PermissionGrant, error)
	UpdatePermissionGrantScope(ctx context.Context, tenantID, id, scope string) error
	DeletePermissionGrant(ctx context.Context, tenantID, id string) error
	AddMember(ctx context.Context, tenantID, groupID, memberID string) error
	RemoveMember(ctx context.Context, tenantID, groupID, memberID string) error
	Members(ctx context.Context, tenantID, groupID string) ([]directory.Object, error)

	Object(ctx context.Context, tenantID, id string) (directory.Object, error)
	Objects(ctx context.Context, tenantID string, ids, types []string) ([]directory.Object, error)
	MemberOf(ctx context.Context, tenantID, objectID string) ([]directory.Object, error)
	TransitiveMemberOf(ctx context.Context, tenantID, objectID string) ([]directory.Object, error)
}

// Options configure the face.
type Options struct {
	Directory Directory
	Validator *authn.Validator
	// Wall is the clients' clock: dates they send were computed on it.
	Wall clock.Clock
	Log  *slog.Logger
}

// Handler serves the Graph face.
type Handler struct {
	dir    Directory
	tokens *authn.Validator
	wall   clock.Clock
	log    *slog.Logger
}

// New returns the Graph face.
func New(o Options) *Handler {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	wall := o.Wall
	if wall == nil {
		wall = clock.Wall{}
	}
	return &Handler{dir: o.Directory, tokens: o.Validator, wall: wall, log: log}
}

// Graph's application permissions that allow writes, per object family.
// Directory.ReadWrite.All allows them all.
var (
	// Application.ReadWrite.OwnedBy writes only what its holder owns
	// (authorize checks); it does not let it change owners.
	appWriters      = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All", ownedByRole}
	appOwnerWriters = []string{"Application.ReadWrite.All", "Directory.ReadWrite.All"}
	userWriters     = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	groupWriters    = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}
	memberWriters   = []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
)

// Register adds the face's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	r := func(pattern string, writers []string, fn func(*call) error) {
		mux.Handle(pattern, h.endpoint(writers, fn))
	}
	r("GET /v1.0/applications", nil, h.listApplications)
	r("POST /v1.0/applications", appWriters, h.createApplication)
	r("GET /v1.0/applications/{id}", nil, h.getApplication)
	r("PATCH /v1.0/applications/{id}", appWriters, h.updateApplication)
	r("DELETE /v1.0/applications/{id}", appWriters, h.deleteApplication)
	r("POST /v1.0/applications/{id}/addPassword", appWriters, h.addPassword(directory.TypeApplication))
	r("POST /v1.0/applications/{id}/removePassword", appWriters, h.removePassword(directory.TypeApplication))
	r("POST /v1.0/applications/{id}/addKey", appWriters, h.addKey(directory.TypeApplication))
	r("POST /v1.0/applications/{id}/removeKey", appWriters, h.removeKey(directory.TypeApplication))
	r("GET /v1.0/applications/{id}/federatedIdentityCredentials", nil, h.listFederated)
	r("POST /v1.0/applications/{id}/federatedIdentityCredentials", appWriters, h.createFederated)
	r("GET /v1.0/applications/{id}/federatedIdentityCredentials/{fic}", nil, h.getFederated)
	r("PATCH /v1.0/applications/{id}/federatedIdentityCredentials/{fic}", appWriters, h.updateFederated)
	r("DELETE /v1.0/applications/{id}/federatedIdentityCredentials/{fic}", appWriters, h.deleteFederated)

	r("GET /v1.0/servicePrincipals", nil, h.listServicePrincipals)
	r("POST /v1.0/servicePrincipals", appWriters, h.createServicePrincipal)
	r("GET /v1.0/servicePrincipals/{id}", nil, h.getServicePrincipal)
	r("PATCH /v1.0/servicePrincipals/{id}", appWriters, h.updateServicePrincipal)
	r("DELETE /v1.0/servicePrincipals/{id}", appWriters, h.deleteServicePrincipal)
	r("POST /v1.0/servicePrincipals/{id}/addPassword", appWriters, h.addPassword(directory.TypeServicePrincipal))
	r("POST /v1.0/servicePrincipals/{id}/removePassword", appWriters, h.removePassword(directory.TypeServicePrincipal))
	r("POST /v1.0/servicePrincipals/{id}/addKey", appWriters, h.addKey(directory.TypeServicePrincipal))
	r("POST /v1.0/servicePrincipals/{id}/removeKey", appWriters, h.removeKey(directory.TypeServicePrincipal))

	r("GET /v1.0/users", nil, h.listUsers)
	r("POST /v1.0/users", userWriters, h.createUser)
	r("GET /v1.0/users/{id}", nil, h.getUser)
	r("PATCH /v1.0/users/{id}", userWriters, h.updateUser)
	r("DELETE /v1.0/users/{id}", userWriters, h.deleteUser)
	r("POST /v1.0/users/{id}/revokeSignInSessions", userWriters, h.revokeSignInSessions)

	r("GET /v1.0/groups", nil, h.listGroups)
	r("POST /v1.0/groups", groupWriters, h.createGroup)
	r("GET /v1.0/groups/{id}", nil, h.getGroup)
	r("DELETE /v1.0/groups/{id}", groupWriters, h.deleteGroup)
	r("GET /v1.0/groups/{id}/members", nil, h.listMembers)
	r("POST /v1.0/groups/{id}/members/$ref", memberWriters, h.addMember)
	r("DELETE /v1.0/groups/{id}/members/$ref", memberWriters, h.removeMember)
	r("DELETE /v1.0/groups/{id}/members/{member}/$ref", memberWriters, h.removeMember)

	// The same membership reads and actions on every kind of principal.
	for _, root := range []string{"users", "groups", "servicePrincipals", "directoryObjects"} {
		r("GET /v1.0/"+root+"/{id}/memberOf", nil, h.memberOf(root, false))
		r("GET /v1.0/"+root+"/{id}/transitiveMemberOf", nil, h.memberOf(root, true))
		r("POST /v1.0/"+root+"/{id}/getMemberGroups", nil, h.getMemberGroups(root, false))
		r("POST /v1.0/"+root+"/{id}/getMemberObjects", nil, h.getMemberGroups(root, true))
		r("POST /v1.0/"+root+"/{id}/checkMemberGroups", nil, h.checkMemberGroups(root))
	}
	// Owners of applications, service principals and groups; writes take
	// the object family's write permission.
	for root, writers := range map[string][]string{"applications": appOwnerWriters, "servicePrincipals": appOwnerWriters, "groups": groupWriters} {
		r("GET /v1.0/"+root+"/{id}/owners", nil, h.listOwners(root))
		r("POST /v1.0/"+root+"/{id}/owners/$ref", writers, h.addOwner(root))
		r("DELETE /v1.0/"+root+"/{id}/owners/$ref", writers, h.removeOwner(root))
		r("DELETE /v1.0/"+root+"/{id}/owners/{owner}/$ref", writers, h.removeOwner(root))
	}
	for _, root := range []string{"users", "servicePrincipals"} {
		r("GET /v1.0/"+root+"/{id}/ownedObjects", nil, h.ownedObjects(root))
	}
	r("GET /v1.0/me/ownedObjects", nil, h.meOwnedObjects)
	// Graph's segments are case-insensitive; az deletes through
	// /oAuth2PermissionGrants/{id} and lists through /oauth2PermissionGrants.
	for _, set := range []string{"oauth2PermissionGrants", "oAuth2PermissionGrants"} {
		r("GET /v1.0/"+set, nil, h.listGrants)
		r("POST /v1.0/"+set, grantWriters, h.createGrant)
		r("GET /v1.0/"+set+"/{id}", nil, h.getGrant)
		r("PATCH /v1.0/"+set+"/{id}", grantWriters, h.updateGrant)
		r("DELETE /v1.0/"+set+"/{id}", grantWriters, h.deleteGrant)
	}
	r("GET /v1.0/servicePrincipals/{id}/oauth2PermissionGrants", nil, h.spGrants)
	for _, root := range []string{"servicePrincipals", "users", "groups"} {
		sets := []string{"appRoleAssignments"}
		if root == "servicePrincipals" {
			sets = append(sets, "appRoleAssignedTo")
		}
		for _, set := range sets {
			r("GET /v1.0/"+root+"/{id}/"+set, nil, h.listRoleAssignments(root, set))
			r("POST /v1.0/"+root+"/{id}/"+set, roleAssignmentWriters, h.createRoleAssignment(root, set))
			r("DELETE /v1.0/"+root+"/{id}/"+set+"/{assignment}", roleAssignmentWriters, h.deleteRoleAssignment(root, set))
		}
	}
	r("GET /v1.0/directoryObjects/{id}", nil, h.getObject)
	r("POST /v1.0/directoryObjects/getByIds", nil, h.getByIds)
	r("GET /v1.0/me", nil, h.me)
	r("GET /v1.0/me/memberOf", nil, h.meMemberOf(false))
	r("GET /v1.0/me/transitiveMemberOf", nil, h.meMemberOf(true))
	r("POST /v1.0/me/getMemberGroups", nil, h.meMemberGroups)
	r("POST /v1.0/me/getMemberObjects", nil, h.meMemberObjects)
	r("GET /v1.0/organization", nil, h.organization)
	r("/oidc/userinfo", nil, h.userinfo) // GET or POST (userinfo.go)

	// Everything else under /v1.0/, in any method: key-addressed forms
	// (applications(appId='…'), users('…')) and Graph-shaped refusals.
	r("/v1.0/", nil, h.fallback)
}

// call is one authenticated Graph request.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	p      authn.Principal
	tenant string
	domain string // the tenant's default domain (publisherDomain)
	base   string // scheme://host the client used, for @odata.context
}

func (c *call) ctx() context.Context { return c.r.Context() }

// endpoint authenticates the caller, checks write permission when
// writers is set, and runs fn, rendering any error Graph's way.
func (h *Handler) endpoint(writers []string, fn func(*call) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stampIDs(w, r)
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		c := &call{w: w, r: r, base: "https://" + r.Host}
		if err := h.authenticate(c); err != nil {
			h.writeError(c, err)
			return
		}
		if writers != nil {
			if err := h.authorize(c, writers); err != nil {
				h.writeError(c, err)
				return
			}
		}
		if err := fn(c); err != nil {
			h.writeError(c, err)
		}
	})
}

func (h *Handler) authenticate(c *call) error {
	o := origin.FromContext(c.ctx())
	accept := authn.Accept{
		// In custom-cloud mode az's Graph resource is aksid's own base
		// URL, so tokens for it carry that audience.
		Audiences:   []string{"https://graph.microsoft.com", "https://graph.microsoft.com/", directory.MicrosoftGraphApp, o.Base + "/"},
		IssuerBases: issuerBases(o),
	}
	p, err := h.tokens.FromHeader(c.ctx(), c.r.Header.Get("Authorization"), accept)
	if err != nil {
		return authFailure(err)
	}
	t, err := h.dir.CachedTenant(c.ctx(), p.TenantID)
	if err != nil {
		return &apiError{http.StatusUnauthorized, codeInvalidToken, "Access token validation failure. Invalid tenant."}
	}
	c.p, c.tenant, c.domain = p, t.ID, t.DefaultDomain
	return nil
}

func issuerBases(o origin.Origin) []string {
	out := append([]string{}, o.LoginBases...)
	for _, b := range []string{o.Issuers.V1Base, o.Issuers.V2Base} {
		if b != "" && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// authorize lets directory administrators and holders of one of writers
// (application permissions, in the token's roles) change objects.
// Entra's default user permissions allow every member to read.
func (h *Handler) authorize(c *call, writers []string) error {
	ownedBy := false
	for _, role := range c.p.Roles {
		if role == ownedByRole && slices.Contains(writers, role) {
			ownedBy = true
		} else if slices.Contains(writers, role) {
			return nil
		}
	}
	if ownedBy {
		// Not an owner: the caller may still be an administrator.
		if err := h.mustOwn(c); !errors.Is(err, errDenied) {
			return err
		}
	}
	admin, err := h.dir.IsAdministrator(c.ctx(), c.tenant, c.p.ObjectID)
	if err != nil {
		return err
	}
	if !admin {
		return errDenied
	}
	return nil
}

const ownedByRole = "Application.ReadWrite.OwnedBy"

// mustOwn lets a holder of Application.ReadWrite.OwnedBy create
// applications and principals (it owns the applications it creates) and
// change the applications it owns and their principals, or principals it
// owns. An object that is not there is left to the handler's 404.
func (h *Handler) mustOwn(c *call) error {
	id := c.r.PathValue("id")
	if id == "" {
		return nil
	}
	if !strings.HasPrefix(c.r.URL.Path, "/v1.0/servicePrincipals") {
		return ownerOrDenied(h.owns(c, directory.TypeApplication, id))
	}
	if owns, err := h.owns(c, directory.TypeServicePrincipal, id); owns || err != nil {
		return ownerOrDenied(owns, err)
	}
	sp, err := h.dir.ServicePrincipalByObjectID(c.ctx(), c.tenant, id)
	if err != nil {
		return ownerOrDenied(false, err)
	}
	app, err := h.dir.Application(c.ctx(), sp.AppID)
	if err != nil || app.TenantID != c.tenant {
		return ownerOrDenied(false, err)
	}
	return ownerOrDenied(h.owns(c, directory.TypeApplication, app.ObjectID))
}

// ownerOrDenied turns an ownership check into authorize's answer.
func ownerOrDenied(owns bool, err error) error {
	switch {
	case errors.Is(err, directory.ErrObjectNotFound), errors.Is(err, directory.ErrPrincipalNotFound), errors.Is(err, directory.ErrApplicationNotFound):
		return nil
	case err != nil:
		return err
	case !owns:
		return errDenied
	}
	return nil
}

// owns tells whether the caller is an owner of the typ object id.
func (h *Handler) owns(c *call, typ, id string) (bool, error) {
	owners, err := h.dir.Owners(c.ctx(), c.tenant, typ, id)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(owners, func(o directory.Object) bool { return o.ID() == c.p.ObjectID }), nil
}
