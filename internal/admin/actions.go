package admin

import (
	"context"
	"encoding/json"
	"net/http"
)

// action serves a request whose JSON body is a Req — valid, when set,
// refuses one missing what act needs — answered with what act returns.
// shape describes the body for the refusal.
func action[Req, Resp any](g gate, shape string, valid func(Req) bool, act func(context.Context, Req) (Resp, error)) http.HandlerFunc {
	return g.wrap(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || (valid != nil && !valid(req)) {
			writeErr(w, http.StatusBadRequest, "InvalidRequest", "body must be JSON "+shape)
			return
		}
		v, err := act(r.Context(), req)
		g.respond(w, r, v, err)
	})
}

// query serves a request without a body.
func query[Resp any](g gate, act func(context.Context) (Resp, error)) http.HandlerFunc {
	return g.wrap(func(w http.ResponseWriter, r *http.Request) {
		v, err := act(r.Context())
		g.respond(w, r, v, err)
	})
}

// deleted is the answer of a removal.
func deleted(err error) (map[string]bool, error) { return map[string]bool{"deleted": true}, err }
