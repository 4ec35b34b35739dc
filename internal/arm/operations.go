package arm

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/resources"
)

// operationURLs are where clients poll an operation: the status document
// (Azure-AsyncOperation) and the result (Location).
func operationURLs(base string, op resources.Operation, version string) (async, location string) {
	prefix := base + "/subscriptions/" + op.Subscription + "/providers/" + op.Namespace + "/locations/" + url.PathEscape(op.Location)
	q := "?api-version=" + url.QueryEscape(version)
	return prefix + "/operations/" + op.ID + q, prefix + "/operationresults/" + op.ID + q
}

// answer is what a finished operation answers: a status and a body (nil for none).
type answer func() (int, any)

// accepted is the answer of work with no resource to show: 202 Accepted.
func accepted() (int, any) { return http.StatusAccepted, nil }

// operate runs work as a long-running operation on id in namespace ns
// (work finishes at once, so the first poll already succeeds) and answers
// with both polling headers and Retry-After: 1, so clients poll soon (az
// waits 30 s without); the status and body are answer's (202 for POST and
// DELETE, 201 or 200 and the resource for PUT).
func (h *Handler) operate(c *call, ns, location, id string, work func() error, answer answer) error {
	op, err := h.res.StartOperation(c.ctx(), c.subID(), ns, location, id)
	if err != nil {
		return err
	}
	if err := work(); err != nil {
		e, _ := azerr.As(err)
		_, _ = h.res.FinishOperation(c.ctx(), op, e)
		return err
	}
	if op, err = h.res.FinishOperation(c.ctx(), op, nil); err != nil {
		return err
	}
	async, loc := operationURLs(c.base, op, c.version)
	c.w.Header().Set("Azure-AsyncOperation", async)
	c.w.Header().Set("Location", loc)
	c.w.Header().Set("Retry-After", "1")
	status, body := answer()
	if body == nil {
		return c.empty(status)
	}
	return c.json(status, body)
}

// operation serves the polling endpoints of any namespace:
// …/providers/{ns}/locations/{loc}/operations/{id} (status document) and
// …/operationresults/{id} (202 while running, then 200). Only GET reaches
// it, before its subscription is resolved.
func (h *Handler) operation(c *call) error {
	if err := h.resolve(c, atSubscription); err != nil {
		return err
	}
	if err := h.allowUnder(c, c.segs[3]+"/locations/operations/read", subscriptionID(c)); err != nil {
		return err
	}
	op, err := h.res.GetOperation(c.ctx(), c.subID(), c.segs[7])
	if err != nil {
		return err
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
		return c.json(http.StatusOK, doc)
	}
	switch op.Status {
	case resources.OpInProgress:
		_, location := operationURLs(c.base, op, c.version)
		c.w.Header().Set("Location", location)
		c.w.Header().Set("Retry-After", "1")
		return c.empty(http.StatusAccepted)
	case resources.OpSucceeded:
		return c.empty(http.StatusOK)
	}
	if op.Error == nil { // a failed operation always records why
		return fmt.Errorf("arm: operation %s is %s without an error", op.ID, op.Status)
	}
	return op.Error
}
