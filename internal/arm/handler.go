// Package arm is the HTTP face of Azure Resource Manager: routing by resource ID, api-versions, authentication, RBAC on every request, long-running operations and ARM's error body.
package arm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/resources"
)

// MaxBodyBytes bounds ARM request bodies.
const MaxBodyBytes = 4 << 20

// Audiences ARM accepts.
var Audiences = []string{"https://management.core.windows.net/", "https://management.azure.com/"}

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
	return &Handler{validator: d.Validator, authz: d.Authz, groups: d.Groups, tenants: d.Tenants, res: d.Resources,
		roles: d.Roles, msi: d.Identities, aks: d.Clusters, net: d.Network, principals: d.Principals, log: d.Log}
}

// Roots are the first path segments ARM owns.
var Roots = []string{"subscriptions", "tenants", "providers", "metadata"}

// call is one authenticated ARM request.
type call struct {
	w       http.ResponseWriter
	r       *http.Request
	segs    []string // path segments as sent
	low     []string // lower-cased
	p       authn.Principal
	ids     []string // principal and group object IDs
	version string
	base    string
}

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
	p, err := h.validator.FromHeader(r.Context(), r.Header.Get("Authorization"),
		authn.Accept{Audiences: Audiences, IssuerBases: o.LoginBases})
	if err != nil {
		writeError(w, authError(err))
		return
	}
	c.p = p
	groups, err := h.groups.TransitiveGroups(r.Context(), p.TenantID, p.ObjectID)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.ids = append([]string{p.ObjectID}, groups...)
	if c.version == "" {
		writeError(w, azerr.New(azerr.Invalid, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	h.dispatch(c)
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

func authError(err error) *azerr.Error {
	switch {
	case errors.Is(err, authn.ErrNoToken):
		return azerr.New(azerr.Unauthenticated, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
	case errors.Is(err, authn.ErrExpired):
		return azerr.New(azerr.Unauthenticated, "ExpiredAuthenticationToken", "The access token has expired. Please get a new token and try again.")
	case errors.Is(err, authn.ErrAudience):
		return azerr.New(azerr.Unauthenticated, "InvalidAuthenticationTokenAudience",
			"The access token has been obtained for wrong audience or resource. It should exactly match with one of the allowed audiences '%s'.", strings.Join(Audiences, "','"))
	default:
		return azerr.New(azerr.Unauthenticated, "InvalidAuthenticationToken", "The access token is invalid.")
	}
}

// checkVersion refuses an api-version the type does not serve.
func (h *Handler) checkVersion(c *call, ns, typ string) bool {
	versions := resources.APIVersions(ns, typ)
	if slices.Contains(versions, c.version) {
		return true
	}
	writeError(c.w, azerr.New(azerr.Invalid, "InvalidApiVersionParameter",
		"The api-version '%s' is invalid. The supported versions are '%s'. Please see https://aka.ms/api-version for more details.", c.version, strings.Join(versions, ",")))
	return false
}

// allow authorizes action at scope for the caller, answering 403 itself.
func (h *Handler) allow(c *call, action, scope string) bool {
	ok, err := h.authz.Authorize(c.r.Context(), c.ids, action, scope)
	if err != nil {
		h.fail(c, err)
		return false
	}
	if !ok {
		writeError(c.w, Denied(c.p, action, scope))
		return false
	}
	return true
}

// writeReadable answers a list with the items the caller may read
// (action on each item's ID), as ARM filters lists by permission.
func writeReadable[T any](h *Handler, c *call, list []T, action func(T) string, id func(T) string) {
	out := []T{}
	for _, item := range list {
		if ok, err := h.authz.Authorize(c.r.Context(), c.ids, action(item), id(item)); err == nil && ok {
			out = append(out, item)
		}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
}

// fixed is an action func for lists of one resource type.
func fixed[T any](action string) func(T) string { return func(T) string { return action } }

// Denied is ARM's refusal for a missing permission.
func Denied(p authn.Principal, action, scope string) *azerr.Error {
	client := p.ObjectID
	if p.UPN != "" {
		client = p.UPN
	}
	e := rbac.Denied(client, p.ObjectID, action, scope)
	return &azerr.Error{Kind: azerr.Forbidden, Code: e.Code, Message: e.Message}
}

// pathSubscription resolves the subscription the path names, for the
// caller's tenant; on a refusal it has answered and reports false.
func (h *Handler) pathSubscription(c *call) (string, bool) {
	sub, err := h.res.Subscription(c.r.Context(), c.p.TenantID, c.segs[1])
	if err != nil {
		h.fail(c, err)
		return "", false
	}
	return sub.SubscriptionID, true
}

// pathGroup resolves the resource group the path names (segment 3) in
// subscription sub; on a refusal it has answered and reports false.
func (h *Handler) pathGroup(c *call, sub string) (resources.Group, bool) {
	g, err := h.res.GetGroup(c.r.Context(), sub, c.segs[3])
	if err != nil {
		h.fail(c, err)
		return resources.Group{}, false
	}
	return g, true
}

// fail renders domain refusals and logs anything else as internal.
func (h *Handler) fail(c *call, err error) {
	if e, ok := azerr.As(err); ok {
		writeError(c.w, e)
		return
	}
	if e, ok := domainError(err); ok {
		writeError(c.w, e)
		return
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(c.w, azerr.New(azerr.Invalid, "RequestBodyTooLarge", "The request content size exceeds the maximum of %d bytes.", MaxBodyBytes))
		return
	}
	h.log.ErrorContext(c.r.Context(), "arm: internal error", "request_id", c.w.Header().Get("x-ms-request-id"), "err", err)
	writeError(c.w, azerr.New(0, "InternalServerError", "An internal error occurred. Request ID: %s", c.w.Header().Get("x-ms-request-id")))
}

var statusOf = map[azerr.Kind]int{
	azerr.Invalid: 400, azerr.NotFound: 404, azerr.Conflict: 409, azerr.Forbidden: 403,
	azerr.PreconditionFailed: 412, azerr.Unauthenticated: 401,
}

// writeError is the ARM face's one error writer.
func writeError(w http.ResponseWriter, e *azerr.Error) {
	status, ok := statusOf[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"encoding failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decode reads a JSON body into v, refusing what is not JSON.
func decode(c *call, v any) error {
	b, err := io.ReadAll(c.r.Body)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return azerr.New(azerr.Invalid, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the body is empty.")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return azerr.New(azerr.Invalid, "InvalidRequestContent", "The request content was invalid and could not be deserialized: %s", jsonReason(err))
	}
	return nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON at offset " + itoa(se.Offset)
	case errors.As(err, &te):
		return "property '" + te.Field + "' has the wrong type"
	}
	return "malformed JSON"
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
