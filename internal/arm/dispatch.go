package arm

import (
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
)

// match tells whether the lower-cased path has pattern's shape; "*"
// matches any one segment.
func match(low []string, pattern ...string) bool {
	if len(low) != len(pattern) {
		return false
	}
	for i, p := range pattern {
		if p != "*" && p != low[i] {
			return false
		}
	}
	return true
}

// dispatch routes a request by the shape of its resource ID. ARM paths
// are case-insensitive (az writes "resourcegroups", SDKs "resourceGroups").
func (h *Handler) dispatch(c *call) {
	low, m := c.low, c.r.Method
	if i := authzIndex(low); i >= 0 {
		h.authorization(c, i)
		return
	}
	switch {
	case match(low, "tenants") && m == http.MethodGet:
		h.listTenants(c)
	case match(low, "subscriptions") && m == http.MethodGet:
		h.listSubscriptions(c)
	case match(low, "subscriptions", "*") && m == http.MethodGet:
		h.getSubscription(c)
	case match(low, "subscriptions", "*", "resourcegroups"):
		h.onSubscription(c, "resourceGroups", h.listGroups)
	case match(low, "subscriptions", "*", "resourcegroups", "*"):
		h.onSubscription(c, "resourceGroups", h.group)
	case match(low, "subscriptions", "*", "resources"), match(low, "subscriptions", "*", "resourcegroups", "*", "resources"):
		h.onSubscription(c, "resources", h.listResources)
	case match(low, "subscriptions", "*", "resourcegroups", "*", "providers", "microsoft.managedidentity", "userassignedidentities", "*", "federatedidentitycredentials"),
		match(low, "subscriptions", "*", "resourcegroups", "*", "providers", "microsoft.managedidentity", "userassignedidentities", "*", "federatedidentitycredentials", "*"):
		h.federatedCredentials(c)
	case match(low, "subscriptions", "*", "resourcegroups", "*", "providers", "microsoft.managedidentity", "userassignedidentities", "*"),
		match(low, "subscriptions", "*", "resourcegroups", "*", "providers", "microsoft.managedidentity", "userassignedidentities"),
		match(low, "subscriptions", "*", "providers", "microsoft.managedidentity", "userassignedidentities"):
		h.identities(c)
	case len(low) >= 7 && low[2] == "resourcegroups" && low[4] == "providers" && low[5] == "microsoft.containerservice" && low[6] == "managedclusters",
		match(low, "subscriptions", "*", "providers", "microsoft.containerservice", "managedclusters"):
		h.clusters(c)
	case len(low) >= 7 && low[2] == "resourcegroups" && low[4] == "providers" && networkNamespace(low[5]):
		h.networkResources(c)
	case len(low) == 5 && low[2] == "providers" && networkNamespace(low[3]) && networkType(low[3], low[4]):
		h.networkResources(c)
	case len(low) >= 3 && low[0] == "subscriptions" && low[2] == "providers":
		h.providers(c)
	default:
		writeError(c.w, notFoundPath(c))
	}
}

func notFoundPath(c *call) *azerr.Error {
	return azerr.New(azerr.NotFound, "NotFound", "The requested path '%s' was not found or the method '%s' is not supported.", "/"+strings.Join(c.segs, "/"), c.r.Method)
}

// onSubscription checks the api-version of a Microsoft.Resources type and
// that the subscription exists in the caller's tenant, then runs next.
func (h *Handler) onSubscription(c *call, typ string, next func(*call, string)) {
	if !h.checkVersion(c, "Microsoft.Resources", typ) {
		return
	}
	sub, err := h.res.Subscription(c.r.Context(), c.p.TenantID, c.segs[1])
	if err != nil {
		h.fail(c, err)
		return
	}
	next(c, sub.SubscriptionID)
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

// methodNotAllowed answers a method the resource does not take.
func methodNotAllowed(c *call) {
	writeJSON(c.w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{
		"code": "MethodNotAllowed", "message": "The method '" + c.r.Method + "' is not allowed on '/" + strings.Join(c.segs, "/") + "'."}})
}
