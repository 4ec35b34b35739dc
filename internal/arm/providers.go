package arm

import (
	"net/http"

	"github.com/aksid/aksid/internal/resources"
)

const (
	actProviderRead = "Microsoft.Resources/subscriptions/providers/read"
	actFeatureRead  = "Microsoft.Features/features/read"
	actFeatureReg   = "Microsoft.Features/providers/features/register/action"
	actFeatureUnreg = "Microsoft.Features/providers/features/unregister/action"
)

// providers serves /subscriptions/{s}/providers/… : resource providers
// and, under Microsoft.Features, preview features.
func (h *Handler) providers(c *call) {
	low := c.low
	if match(low, "subscriptions", "*", "providers", "*", "locations", "*", "operations", "*") ||
		match(low, "subscriptions", "*", "providers", "*", "locations", "*", "operationresults", "*") {
		h.operation(c) // any api-version: the URL is one aksid handed out
		return
	}
	if len(low) >= 4 && low[3] == "microsoft.features" && len(low) > 4 {
		h.onFeatures(c)
		return
	}
	if !h.checkVersion(c, "Microsoft.Resources", "providers") {
		return
	}
	sub, err := h.res.Subscription(c.r.Context(), c.p.TenantID, c.segs[1])
	if err != nil {
		h.fail(c, err)
		return
	}
	s := sub.SubscriptionID
	scope := "/subscriptions/" + s
	ctx := c.r.Context()
	switch {
	case len(low) == 3 && c.r.Method == http.MethodGet:
		if !h.allow(c, actProviderRead, scope) {
			return
		}
		list, err := h.res.ListProviders(ctx, s)
		if err != nil {
			h.fail(c, err)
			return
		}
		writeJSON(c.w, http.StatusOK, map[string]any{"value": list})
	case len(low) == 4 && c.r.Method == http.MethodGet:
		if !h.allow(c, actProviderRead, scope) {
			return
		}
		v, err := h.res.GetProvider(ctx, s, c.segs[3])
		if err != nil {
			h.fail(c, err)
			return
		}
		writeJSON(c.w, http.StatusOK, v)
	case len(low) == 5 && (low[4] == "register" || low[4] == "unregister") && c.r.Method == http.MethodPost:
		if !h.allow(c, c.segs[3]+"/"+low[4]+"/action", scope) {
			return
		}
		v, err := h.res.RegisterProvider(ctx, s, c.segs[3], resources.Change(low[4]))
		if err != nil {
			h.fail(c, err)
			return
		}
		writeJSON(c.w, http.StatusOK, v)
	default:
		writeError(c.w, notFoundPath(c))
	}
}

func (h *Handler) onFeatures(c *call) {
	if !h.checkVersion(c, "Microsoft.Features", "features") {
		return
	}
	sub, err := h.res.Subscription(c.r.Context(), c.p.TenantID, c.segs[1])
	if err != nil {
		h.fail(c, err)
		return
	}
	s, low, ctx := sub.SubscriptionID, c.low, c.r.Context()
	scope := "/subscriptions/" + s
	get := c.r.Method == http.MethodGet
	switch {
	case match(low, "subscriptions", "*", "providers", "microsoft.features", "features") && get:
		if !h.allow(c, actFeatureRead, scope) {
			return
		}
		list, err := h.res.ListFeatures(ctx, s, "")
		h.render(c, map[string]any{"value": list}, err)
	case match(low, "subscriptions", "*", "providers", "microsoft.features", "providers", "*", "features") && get:
		if !h.allow(c, actFeatureRead, scope) {
			return
		}
		list, err := h.res.ListFeatures(ctx, s, c.segs[5])
		h.render(c, map[string]any{"value": list}, err)
	case match(low, "subscriptions", "*", "providers", "microsoft.features", "providers", "*", "features", "*") && get:
		if !h.allow(c, actFeatureRead, scope) {
			return
		}
		v, err := h.res.GetFeature(ctx, s, c.segs[5], c.segs[7])
		h.render(c, v, err)
	case match(low, "subscriptions", "*", "providers", "microsoft.features", "providers", "*", "features", "*", "register") && c.r.Method == http.MethodPost:
		if !h.allow(c, actFeatureReg, scope) {
			return
		}
		v, err := h.res.RegisterFeature(ctx, s, c.segs[5], c.segs[7], resources.Register)
		h.render(c, v, err)
	case match(low, "subscriptions", "*", "providers", "microsoft.features", "providers", "*", "features", "*", "unregister") && c.r.Method == http.MethodPost:
		if !h.allow(c, actFeatureUnreg, scope) {
			return
		}
		v, err := h.res.RegisterFeature(ctx, s, c.segs[5], c.segs[7], resources.Unregister)
		h.render(c, v, err)
	default:
		writeError(c.w, notFoundPath(c))
	}
}

// render writes v, or the error.
func (h *Handler) render(c *call, v any, err error) {
	if err != nil {
		h.fail(c, err)
		return
	}
	writeJSON(c.w, http.StatusOK, v)
}
