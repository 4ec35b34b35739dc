package arm

import (
	"net/http"
	"net/url"

	"github.com/aksid/aksid/internal/resources"
)

// operationURLs are where clients poll an operation: the status document
// (Azure-AsyncOperation) and the result (Location).
func operationURLs(base string, op resources.Operation, version string) (async, location string) {
	prefix := base + "/subscriptions/" + op.Subscription + "/providers/" + op.Namespace + "/locations/" + url.PathEscape(op.Location)
	q := "?api-version=" + url.QueryEscape(version)
	return prefix + "/operations/" + op.ID + q, prefix + "/operationresults/" + op.ID + q
}

// accepted answers a request whose work runs as op: the status (202 for
// POST/DELETE, 201 or 200 for PUT with the resource as body), both polling
// headers and Retry-After: 1, so clients poll soon (az waits 30 s without).
func (h *Handler) accepted(c *call, op resources.Operation, status int, body any) {
	async, location := operationURLs(c.base, op, c.version)
	c.w.Header().Set("Azure-AsyncOperation", async)
	c.w.Header().Set("Location", location)
	c.w.Header().Set("Retry-After", "1")
	if body == nil {
		c.w.WriteHeader(status)
		return
	}
	writeJSON(c.w, status, body)
}

// operation serves the polling endpoints of any namespace:
// …/providers/{ns}/locations/{loc}/operations/{id} (status document) and
// …/operationresults/{id} (202 while running, then 200).
func (h *Handler) operation(c *call) {
	if c.r.Method != http.MethodGet {
		methodNotAllowed(c)
		return
	}
	sub, err := h.res.Subscription(c.r.Context(), c.p.TenantID, c.segs[1])
	if err != nil {
		h.fail(c, err)
		return
	}
	if ok, err := h.authz.HasAccessUnder(c.r.Context(), c.ids, "/subscriptions/"+sub.SubscriptionID); err != nil || !ok {
		if err != nil {
			h.fail(c, err)
			return
		}
		writeError(c.w, Denied(c.p, c.segs[3]+"/locations/operations/read", "/subscriptions/"+sub.SubscriptionID))
		return
	}
	op, err := h.res.GetOperation(c.r.Context(), sub.SubscriptionID, c.segs[7])
	if err != nil {
		h.fail(c, err)
		return
	}
	if c.low[6] == "operations" {
		doc := map[string]any{"id": "/subscriptions/" + op.Subscription + "/providers/" + op.Namespace + "/locations/" + op.Location + "/operations/" + op.ID,
			"name": op.ID, "status": op.Status, "startTime": op.StartTime}
		if !op.EndTime.IsZero() {
			doc["endTime"] = op.EndTime
		}
		if op.Error != nil {
			doc["error"] = map[string]string{"code": op.Error.Code, "message": op.Error.Message}
		}
		if op.Status == resources.OpInProgress {
			c.w.Header().Set("Retry-After", "1")
		}
		writeJSON(c.w, http.StatusOK, doc)
		return
	}
	switch op.Status {
	case resources.OpInProgress:
		_, location := operationURLs(c.base, op, c.version)
		c.w.Header().Set("Location", location)
		c.w.Header().Set("Retry-After", "1")
		c.w.WriteHeader(http.StatusAccepted)
	case resources.OpSucceeded:
		c.w.WriteHeader(http.StatusOK)
	default:
		writeError(c.w, op.Error)
	}
}
