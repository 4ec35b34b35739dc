package arm

import (
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/resources"
)

// resourceType is one row of the routing table: the paths of one resource
// type (or of its lists, or of one of its actions), the catalog entry whose
// api-versions it accepts, the scope the router resolves before any
// endpoint runs, and the endpoints by method.
type resourceType struct {
	paths [][]string           // lower-case shapes: "*" is one segment, a final "**" one or more
	match func([]string) bool  // instead of paths, for types that live under any scope
	ns    string               // with typ, the resources catalog entry naming the api-versions;
	typ   string               // "" accepts any (operation URLs are ones aksid handed out)
	scope scope                // what is resolved into the call
	id    func(c *call) string // the ID endpoints with an action are authorized on
	on    methods
}

// methods are a type's endpoints by HTTP method; the key "" answers every
// other method, and without it they are refused as 405.
type methods map[string]endpoint

// endpoint is one handler, in the one shape, with the RBAC action the
// router checks on the row's ID before it runs ("" when the handler
// decides: lists filter by item, some actions depend on the path).
type endpoint struct {
	action string
	serve  func(*call) error
}

// scope is where a type's IDs live: what the router resolves, in the
// caller's tenant, before an endpoint runs.
type scope int

const (
	atTenant       scope = iota // nothing to resolve
	atSubscription              // the path's subscription, into c.sub
	atGroup                     // and the path's resource group, if it names one, into c.group
	atAnyScope                  // the scope before /providers/Microsoft.Authorization, into c.scope
)

// paths compiles path shapes written with "/".
func paths(shapes ...string) [][]string {
	out := make([][]string, len(shapes))
	for i, s := range shapes {
		out[i] = strings.Split(s, "/")
	}
	return out
}

// matches tells whether the lower-cased path has one of t's shapes.
func (t *resourceType) matches(low []string) bool {
	if t.match != nil {
		return t.match(low)
	}
	return slices.ContainsFunc(t.paths, func(shape []string) bool { return fits(low, shape) })
}

func fits(low, shape []string) bool {
	if n := len(shape); n > 0 && shape[n-1] == "**" {
		if len(low) < n {
			return false
		}
		low, shape = low[:n-1], shape[:n-1]
	}
	if len(low) != len(shape) {
		return false
	}
	for i, p := range shape {
		if p != "*" && p != low[i] {
			return false
		}
	}
	return true
}

// dispatch routes a request by the shape of its resource ID (ARM paths are
// case-insensitive: az writes "resourcegroups", SDKs "resourceGroups"):
// the first matching row's api-version, scope, method and RBAC action are
// checked in that order, then its endpoint runs.
func (h *Handler) dispatch(c *call) error {
	i := slices.IndexFunc(h.types, func(t resourceType) bool { return t.matches(c.low) })
	if i < 0 {
		return notFoundPath(c)
	}
	t := &h.types[i]
	if t.ns != "" {
		if err := checkVersion(c, t.ns, t.typ); err != nil {
			return err
		}
	}
	if err := h.resolve(c, t.scope); err != nil {
		return err
	}
	e, ok := t.on[c.r.Method]
	if !ok {
		if e, ok = t.on[""]; !ok {
			return methodNotAllowed(c)
		}
	}
	if t.id != nil {
		c.id = t.id(c)
	}
	if e.action != "" {
		if err := h.allow(c, e.action, c.id); err != nil {
			return err
		}
	}
	return e.serve(c)
}

// checkVersion refuses an api-version the type does not serve.
func checkVersion(c *call, ns, typ string) error {
	versions := resources.APIVersions(ns, typ)
	if slices.Contains(versions, c.version) {
		return nil
	}
	return azerr.New(azerr.Invalid, "InvalidApiVersionParameter",
		"The api-version '%s' is invalid. The supported versions are '%s'. Please see https://aka.ms/api-version for more details.", c.version, strings.Join(versions, ","))
}

// resolve finds what the path names at scope s, refusing what the caller's
// tenant does not have.
func (h *Handler) resolve(c *call, s scope) error {
	switch s {
	case atAnyScope:
		c.scope = "/" + strings.Join(c.segs[:authzIndex(c.low)], "/")
		return h.scopeExists(c, c.scope)
	case atSubscription, atGroup:
		sub, err := h.res.Subscription(c.ctx(), c.p.TenantID, c.segs[1])
		if err != nil {
			return err
		}
		c.sub = sub
		if s == atGroup && c.low[2] == "resourcegroups" {
			c.group, err = h.res.GetGroup(c.ctx(), sub.SubscriptionID, c.segs[3])
		}
		return err
	}
	return nil
}

// scopeExists checks the scope parses, its subscription is the caller's
// and its resource group exists.
func (h *Handler) scopeExists(c *call, scope string) error {
	id, err := armid.Parse(scope)
	if err != nil {
		return err
	}
	if id.SubscriptionID() == "" {
		return nil
	}
	if _, err := h.res.Subscription(c.ctx(), c.p.TenantID, id.SubscriptionID()); err != nil {
		return err
	}
	if id.ResourceGroup() != "" {
		_, err = h.res.GetGroup(c.ctx(), id.SubscriptionID(), id.ResourceGroup())
	}
	return err
}

// authzIndex finds ".../providers/Microsoft.Authorization/..." in a path
// and returns the index of "providers", or -1.
func authzIndex(low []string) int {
	for i := 0; i+2 < len(low); i++ {
		if low[i] == "providers" && low[i+1] == "microsoft.authorization" {
			return i
		}
	}
	return -1
}

// authzPath matches {scope}/providers/Microsoft.Authorization/{typ}
// followed by extra more segments (the name); typ "" matches any.
func authzPath(typ string, extra int) func([]string) bool {
	return func(low []string) bool {
		i := authzIndex(low)
		return i >= 0 && (typ == "" || len(low) == i+3+extra && low[i+2] == typ)
	}
}

// authzName is the name after {scope}/providers/Microsoft.Authorization/{typ}/.
func (c *call) authzName() string { return c.segs[authzIndex(c.low)+3] }
