// Package arm is the HTTP face of Azure Resource Manager: routing by resource ID, api-versions, authentication, RBAC on every request, long-running operations and ARM's error body.
package arm

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/resources"
)

// MaxBodyBytes bounds ARM request bodies.
const MaxBodyBytes = 4 << 20

// Audiences ARM accepts.
var Audiences = []string{"https://management.core.windows.net/", "https://management.azure.com/"}

// audiences are ARM's, and directly also aksid's own URL: an SDK given
// aksid's URL as its endpoint asks for "<endpoint>/.default" (the core-
// client @azure/arm-* do), as it asks for management.azure.com's in Azure.
func audiences(o origin.Origin) []string {
	if o.ViaProxy() {
		return Audiences
	}
	return append(slices.Clip(Audiences), o.Base, o.Base+"/")
}

// Authorizer decides RBAC questions; internal/rbac implements it.
type Authorizer interface {
	Authorize(ctx context.Context, principalIDs []string, action, scope string) (bool, error)
	// HasAccessUnder tells whether any of the principals holds any role at
	// scope, above it or below it (ARM lists subscriptions so).
	HasAccessUnder(ctx context.Context, principalIDs []string, scope string) (bool, error)
}

// Groups resolves a principal's transitive group memberships.
type Groups interface {
	TransitiveGroups(ctx context.Context, tenantID, objectID string) ([]string, error)
}

// Tenants finds a tenant for /tenants.
type Tenants interface {
	CachedTenant(ctx context.Context, idOrDomain string) (directory.Tenant, error)
}

// Handler serves the Resource Manager face.
type Handler struct {
	validator  *authn.Validator
	authz      Authorizer
	groups     Groups
	tenants    Tenants
	res        *resources.Service
	roles      RoleService
	msi        Identities
	aks        Clusters
	net        Network
	principals Principals
	log        *slog.Logger
	types      []resourceType // the routing table, first match wins
}

// Deps are the handler's collaborators.
type Deps struct {
	Validator  *authn.Validator
	Authz      Authorizer
	Groups     Groups
	Tenants    Tenants
	Resources  *resources.Service
	Roles      RoleService
	Identities Identities
	Clusters   Clusters
	Network    Network
	Principals Principals
	Log        *slog.Logger
}

// New returns the ARM face.
func New(d Deps) *Handler {
	h := &Handler{validator: d.Validator, authz: d.Authz, groups: d.Groups, tenants: d.Tenants, res: d.Resources,
		roles: d.Roles, msi: d.Identities, aks: d.Clusters, net: d.Network, principals: d.Principals, log: d.Log}
	h.types = h.table()
	return h
}

// Roots are the first path segments ARM owns.
var Roots = []string{"subscriptions", "tenants", "providers", "metadata"}

// call is one authenticated ARM request and what the router resolved for it.
type call struct {
	w       http.ResponseWriter
	r       *http.Request
	segs    []string // path segments as sent
	low     []string // lower-cased
	p       authn.Principal
	ids     []string // principal and group object IDs
	version string
	base    string

	sub   resources.Subscription // at subscription and group scope
	group resources.Group        // at group scope, when the path names a group
	scope string                 // at an authorization scope: the scope before /providers/Microsoft.Authorization
	id    string                 // the ID the row's endpoints are authorized on
}

func (c *call) ctx() context.Context { return c.r.Context() }

// subID is the resolved subscription's ID.
func (c *call) subID() string { return c.sub.SubscriptionID }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-ms-correlation-request-id", w.Header().Get("x-ms-request-id"))
	segs := splitPath(r.URL.Path)
	low := make([]string, len(segs))
	for i, s := range segs {
		low[i] = strings.ToLower(s)
	}
	o := origin.FromContext(r.Context())
	if len(low) == 2 && low[0] == "metadata" && low[1] == "endpoints" {
		h.metadata(w, r, o)
		return
	}
	c := &call{w: w, r: r, segs: segs, low: low, version: r.URL.Query().Get("api-version"), base: o.Base}
	if err := h.serve(c, o); err != nil {
		h.writeError(c, err)
	}
}

// serve authenticates the caller and routes the request; whatever it
// returns is the one refusal ServeHTTP writes.
func (h *Handler) serve(c *call, o origin.Origin) error {
	p, err := h.validator.FromHeader(c.ctx(), c.r.Header.Get("Authorization"),
		authn.Accept{Audiences: audiences(o), IssuerBases: o.LoginBases})
	if err != nil {
		return authError(err)
	}
	c.p = p
	groups, err := h.groups.TransitiveGroups(c.ctx(), p.TenantID, p.ObjectID)
	if err != nil {
		return err
	}
	c.ids = append([]string{p.ObjectID}, groups...)
	if c.version == "" {
		return azerr.New(azerr.Invalid, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
	}
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, MaxBodyBytes)
	return h.dispatch(c)
}

// splitPath splits a path into segments, collapsing "//" as ARM does.
func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// allow refuses unless the caller may perform action at scope.
func (h *Handler) allow(c *call, action, scope string) error {
	ok, err := h.authz.Authorize(c.ctx(), c.ids, action, scope)
	if err != nil {
		return err
	}
	if !ok {
		return denied(c.p, action, scope)
	}
	return nil
}

// allowUnder refuses unless the caller holds some role at, above or below
// scope; action names the refusal (ARM reads subscriptions so).
func (h *Handler) allowUnder(c *call, action, scope string) error {
	ok, err := h.authz.HasAccessUnder(c.ctx(), c.ids, scope)
	if err != nil {
		return err
	}
	if !ok {
		return denied(c.p, action, scope)
	}
	return nil
}

// registered refuses a write in a namespace the subscription has not registered.
func (h *Handler) registered(c *call, ns string) error {
	ok, err := h.res.ProviderRegistered(c.ctx(), c.subID(), ns)
	if err == nil && !ok {
		err = azerr.New(azerr.Conflict, "MissingSubscriptionRegistration",
			"The subscription is not registered to use namespace '%s'. See https://aka.ms/rps-not-found for how to register subscriptions.", ns)
	}
	return err
}
