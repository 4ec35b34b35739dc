package arm

import (
	"net/http"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/resources"
)

func (h *Handler) listTenants(c *call) error {
	t, err := h.tenants.CachedTenant(c.ctx(), c.p.TenantID)
	if err != nil {
		return err
	}
	return c.list([]any{map[string]any{
		"id": "/tenants/" + t.ID, "tenantId": t.ID, "countryCode": "US", "displayName": t.DisplayName,
		"domains": t.Domains, "tenantCategory": "Home", "defaultDomain": t.DefaultDomain, "tenantType": "AAD",
	}}, nil)
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
func (h *Handler) listSubscriptions(c *call) error {
	subs, err := h.res.Subscriptions(c.ctx(), c.p.TenantID)
	if err != nil {
		return err
	}
	out := []any{}
	for _, s := range subs {
		ok, err := h.authz.HasAccessUnder(c.ctx(), c.ids, "/subscriptions/"+s.SubscriptionID)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, subscriptionJSON(s))
		}
	}
	return c.list(out, nil)
}

func (h *Handler) getSubscription(c *call) error {
	if err := h.allowUnder(c, "Microsoft.Resources/subscriptions/read", subscriptionID(c)); err != nil {
		return err
	}
	return c.json(http.StatusOK, subscriptionJSON(c.sub))
}

// listGroups shows the groups the caller may read.
func (h *Handler) listGroups(c *call) error {
	page, err := h.res.GroupsPage(c.ctx(), c.subID(), c.r.URL.Query().Get(skipToken), listPageSize)
	return readablePage(h, c, actGroupRead, page, err, func(g resources.Group) string { return g.ID })
}

type groupBody struct {
	Location  string            `json:"location"`
	Tags      map[string]string `json:"tags"`
	ManagedBy string            `json:"managedBy"`
}

// groupID is /subscriptions/{s}/resourceGroups/{name} of the path.
func groupID(c *call) string { return subscriptionID(c) + "/resourceGroups/" + c.segs[3] }

func (h *Handler) getGroup(c *call) error {
	return c.reply(h.res.GetGroup(c.ctx(), c.subID(), c.segs[3]))
}

// headGroup answers whether the group exists, with no body either way.
func (h *Handler) headGroup(c *call) error {
	if _, err := h.res.GetGroup(c.ctx(), c.subID(), c.segs[3]); err != nil {
		return c.empty(http.StatusNotFound)
	}
	return c.empty(http.StatusNoContent)
}

func (h *Handler) putGroup(c *call) error {
	var body groupBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Location) == "" {
		return azerr.New(azerr.Invalid, "LocationRequired", "The location property is required for this definition.")
	}
	up, err := h.res.PutGroup(c.ctx(), c.subID(), c.segs[3], resources.GroupSpec{Location: body.Location, Tags: body.Tags, ManagedBy: body.ManagedBy})
	return answerPut(c, up, err)
}

func (h *Handler) patchGroup(c *call) error {
	var body groupBody
	if err := decode(c, &body); err != nil {
		return err
	}
	return c.reply(h.res.PatchGroup(c.ctx(), c.subID(), c.segs[3], body.Tags))
}

func (h *Handler) deleteGroup(c *call) error {
	g, err := h.res.GetGroup(c.ctx(), c.subID(), c.segs[3])
	if err != nil {
		return err
	}
	// The domain cascades through every owner of what is in the group.
	return h.operate(c, rsNamespace, g.Location, g.ID, func() error { return h.res.DeleteGroup(c.ctx(), c.subID(), c.segs[3]) }, accepted)
}

// listResources serves GET …/resources, filtered as az resource list asks.
func (h *Handler) listResources(c *call) error {
	scope := subscriptionID(c)
	if len(c.segs) == 5 { // the group is looked up once the method is known to be GET
		scope += "/resourceGroups/" + c.segs[3]
		if _, err := h.res.GetGroup(c.ctx(), c.subID(), c.segs[3]); err != nil {
			return err
		}
	}
	rf, err := parseResourceFilter(c.r.URL.Query().Get("$filter"))
	if err != nil {
		return err
	}
	if len(c.segs) == 5 {
		rf = rf.inGroup(c.segs[3])
	}
	page, err := h.res.ListResourcesPage(c.ctx(), rf.scope(scope), rf.typ, c.r.URL.Query().Get(skipToken), listPageSize)
	page.Items = slices.DeleteFunc(page.Items, func(r resources.GenericResource) bool { return !rf.keep(r) })
	return readablePage(h, c, actResRead, page, err, func(r resources.GenericResource) string { return r.ID })
}
