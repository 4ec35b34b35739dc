package arm

import (
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/resources"
)

func (h *Handler) listTenants(c *call) {
	if !h.checkVersion(c, "Microsoft.Resources", "tenants") {
		return
	}
	t, err := h.tenants.CachedTenant(c.r.Context(), c.p.TenantID)
	if err != nil {
		h.fail(c, err)
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"value": []any{map[string]any{
		"id": "/tenants/" + t.ID, "tenantId": t.ID, "countryCode": "US", "displayName": t.DisplayName,
		"domains": t.Domains, "tenantCategory": "Home", "defaultDomain": t.DefaultDomain, "tenantType": "AAD",
	}}})
}

func subscriptionJSON(s resources.Subscription) map[string]any {
	return map[string]any{
		"id": "/subscriptions/" + s.SubscriptionID, "authorizationSource": "RoleBased", "managedByTenants": []any{},
		"subscriptionId": s.SubscriptionID, "tenantId": s.TenantID, "displayName": s.DisplayName, "state": s.State,
		"subscriptionPolicies": map[string]string{"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
	}
}

// listSubscriptions shows the subscriptions where the caller holds any
// role at any scope, as ARM does.
func (h *Handler) listSubscriptions(c *call) {
	if !h.checkVersion(c, "Microsoft.Resources", "subscriptions") {
		return
	}
	subs, err := h.res.Subscriptions(c.r.Context(), c.p.TenantID)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := []any{}
	for _, s := range subs {
		ok, err := h.authz.HasAccessUnder(c.r.Context(), c.ids, "/subscriptions/"+s.SubscriptionID)
		if err != nil {
			h.fail(c, err)
			return
		}
		if ok {
			out = append(out, subscriptionJSON(s))
		}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
}

func (h *Handler) getSubscription(c *call) {
	if !h.checkVersion(c, "Microsoft.Resources", "subscriptions") {
		return
	}
	s, err := h.res.Subscription(c.r.Context(), c.p.TenantID, c.segs[1])
	if err != nil {
		h.fail(c, err)
		return
	}
	scope := "/subscriptions/" + s.SubscriptionID
	if ok, err := h.authz.HasAccessUnder(c.r.Context(), c.ids, scope); err != nil || !ok {
		if err != nil {
			h.fail(c, err)
			return
		}
		writeError(c.w, Denied(c.p, "Microsoft.Resources/subscriptions/read", scope))
		return
	}
	writeJSON(c.w, http.StatusOK, subscriptionJSON(s))
}

const (
	actGroupRead   = "Microsoft.Resources/subscriptions/resourceGroups/read"
	actGroupWrite  = "Microsoft.Resources/subscriptions/resourceGroups/write"
	actGroupDelete = "Microsoft.Resources/subscriptions/resourceGroups/delete"
	actResRead     = "Microsoft.Resources/subscriptions/resources/read"
)

// listGroups shows the groups the caller may read.
func (h *Handler) listGroups(c *call, sub string) {
	if c.r.Method != http.MethodGet {
		methodNotAllowed(c)
		return
	}
	groups, err := h.res.Groups(c.r.Context(), sub)
	if err != nil {
		h.fail(c, err)
		return
	}
	writeReadable(h, c, groups, fixed[resources.Group](actGroupRead), func(g resources.Group) string { return g.ID })
}

type groupBody struct {
	Location  string            `json:"location"`
	Tags      map[string]string `json:"tags"`
	ManagedBy string            `json:"managedBy"`
}

func (h *Handler) group(c *call, sub string) {
	name := c.segs[3]
	scope := "/subscriptions/" + sub + "/resourceGroups/" + name
	ctx := c.r.Context()
	switch c.r.Method {
	case http.MethodGet, http.MethodHead:
		if !h.allow(c, actGroupRead, scope) {
			return
		}
		g, err := h.res.GetGroup(ctx, sub, name)
		if c.r.Method == http.MethodHead {
			if err != nil {
				c.w.WriteHeader(http.StatusNotFound)
				return
			}
			c.w.WriteHeader(http.StatusNoContent)
			return
		}
		if err != nil {
			h.fail(c, err)
			return
		}
		writeJSON(c.w, http.StatusOK, g)
	case http.MethodPut:
		if !h.allow(c, actGroupWrite, scope) {
			return
		}
		var body groupBody
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		if strings.TrimSpace(body.Location) == "" {
			writeError(c.w, azerr.New(azerr.Invalid, "LocationRequired", "The location property is required for this definition."))
			return
		}
		up, err := h.res.PutGroup(ctx, sub, name, resources.GroupSpec{Location: body.Location, Tags: body.Tags, ManagedBy: body.ManagedBy})
		answerPut(h, c, up, err)
	case http.MethodPatch:
		if !h.allow(c, actGroupWrite, scope) {
			return
		}
		var body groupBody
		if err := decode(c, &body); err != nil {
			h.fail(c, err)
			return
		}
		g, err := h.res.PatchGroup(ctx, sub, name, body.Tags)
		if err != nil {
			h.fail(c, err)
			return
		}
		writeJSON(c.w, http.StatusOK, g)
	case http.MethodDelete:
		if !h.allow(c, actGroupDelete, scope) {
			return
		}
		g, err := h.res.GetGroup(ctx, sub, name)
		if err != nil {
			h.fail(c, err)
			return
		}
		op, err := h.res.StartOperation(ctx, sub, "Microsoft.Resources", g.Location, g.ID)
		if err != nil {
			h.fail(c, err)
			return
		}
		// Deletion finishes at once, so the first poll already succeeds.
		// The domain cascades through every owner of what is in the group.
		if err := h.res.DeleteGroup(ctx, sub, name); err != nil {
			h.fail(c, err)
			return
		}
		if op, err = h.res.FinishOperation(ctx, op, nil); err != nil {
			h.fail(c, err)
			return
		}
		h.accepted(c, op, http.StatusAccepted, nil)
	default:
		methodNotAllowed(c)
	}
}

// listResources serves GET …/resources with `$filter=resourceType eq '…'`.
func (h *Handler) listResources(c *call, sub string) {
	if c.r.Method != http.MethodGet {
		methodNotAllowed(c)
		return
	}
	scope := "/subscriptions/" + sub
	if len(c.segs) == 5 {
		scope += "/resourceGroups/" + c.segs[3]
		if _, err := h.res.GetGroup(c.r.Context(), sub, c.segs[3]); err != nil {
			h.fail(c, err)
			return
		}
	}
	typ, err := resourceTypeFilter(c.r.URL.Query().Get("$filter"))
	if err != nil {
		h.fail(c, err)
		return
	}
	list, err := h.res.ListResources(c.r.Context(), scope, typ)
	if err != nil {
		h.fail(c, err)
		return
	}
	writeReadable(h, c, list, fixed[resources.GenericResource](actResRead), func(r resources.GenericResource) string { return r.ID })
}

// resourceTypeFilter reads the one filter az sends: resourceType eq 'X'.
func resourceTypeFilter(f string) (string, error) {
	f = strings.TrimSpace(f)
	if f == "" {
		return "", nil
	}
	field, rest, ok := strings.Cut(f, " ")
	rest = strings.TrimSpace(rest)
	op, val, ok2 := strings.Cut(rest, " ")
	val = strings.TrimSpace(val)
	if !ok || !ok2 || !strings.EqualFold(field, "resourceType") || !strings.EqualFold(op, "eq") ||
		len(val) < 2 || val[0] != '\'' || val[len(val)-1] != '\'' {
		return "", azerr.New(azerr.Invalid, "InvalidFilterInQueryString",
			"Invalid $filter '%s' specified in the query string. Supported: resourceType eq '<Namespace/type>'.", f)
	}
	return val[1 : len(val)-1], nil
}
