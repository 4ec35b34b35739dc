package arm

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/resources"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"encoding failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// json answers v with status; it returns nil so handlers end on it.
func (c *call) json(status int, v any) error {
	writeJSON(c.w, status, v)
	return nil
}

// empty answers status with no body.
func (c *call) empty(status int) error {
	c.w.WriteHeader(status)
	return nil
}

// reply answers v with 200, or returns err.
func (c *call) reply(v any, err error) error {
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, v)
}

// list answers {"value": v}, or returns err.
func (c *call) list(v any, err error) error {
	return c.reply(map[string]any{"value": v}, err)
}

// answerPut answers a create-or-update: 201 when it created, else 200.
func answerPut[T any](c *call, up resources.Upsert[T], err error) error {
	if err != nil {
		return err
	}
	if up.Created {
		return c.json(http.StatusCreated, up.Value)
	}
	return c.json(http.StatusOK, up.Value)
}

// deleted answers a delete: 200, or 204 when gone reports there was
// nothing to delete (ARM deletes idempotently).
func (c *call) deleted(err error, gone func(*azerr.Error) bool) error {
	if e, ok := azerr.As(err); ok && gone(e) {
		return c.empty(http.StatusNoContent)
	}
	if err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

// notFound tells a refusal that the resource does not exist.
func notFound(e *azerr.Error) bool { return e.Kind == azerr.NotFound }

// readable answers a list with the items the caller may read (action on
// each item's ID), as ARM filters lists by permission; or returns err.
func readable[T any](h *Handler, c *call, action string, items []T, err error, id func(T) string) error {
	return readablePage(h, c, action, resources.Page[T]{Items: items}, err, id)
}

// listPageSize bounds a page of resource groups or resources; the rest
// follow by nextLink and $skiptoken, as ARM pages them.
var listPageSize = 1000

// skipToken is the query parameter ARM's resource lists resume by.
const skipToken = "$skiptoken"

// readablePage is readable for one page of a listing, with a nextLink
// that resumes it when more follow.
func readablePage[T any](h *Handler, c *call, action string, page resources.Page[T], err error, id func(T) string) error {
	if err != nil {
		return err
	}
	out := []T{}
	for _, item := range page.Items {
		if ok, err := h.authz.Authorize(c.ctx(), c.ids, action, id(item)); err == nil && ok {
			out = append(out, item)
		}
	}
	body := map[string]any{"value": out}
	if page.Next != "" {
		q := c.r.URL.Query()
		q.Set(skipToken, page.Next)
		body["nextLink"] = c.base + c.r.URL.Path + "?" + q.Encode()
	}
	return c.json(http.StatusOK, body)
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
