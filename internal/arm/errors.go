package arm

import (
	"errors"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/store"
)

// writeError is the ARM face's one error writer: every handler returns
// its refusal and this renders it, {error: {code, message}} with the
// status azerr's table gives the kind. What is no refusal is logged and
// answered as internal, with nothing of it in the body.
func (h *Handler) writeError(c *call, err error) {
	e, ok := refusal(err)
	if !ok {
		h.log.ErrorContext(c.ctx(), "arm: internal error", "request_id", c.w.Header().Get("x-ms-request-id"), "err", err)
		e = azerr.New(0, "InternalServerError", "An internal error occurred. Request ID: %s", c.w.Header().Get("x-ms-request-id"))
	}
	writeRefusal(c.w, e)
}

// refusal turns err into ARM's refusal, if it is one.
func refusal(err error) (*azerr.Error, bool) {
	if e, ok := azerr.As(err); ok {
		return e, true
	}
	if errors.Is(err, store.ErrUnavailable) {
		return azerr.New(azerr.Unavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please retry the request."), true
	}
	var me *armid.MalformedError
	if errors.As(err, &me) {
		return azerr.New(azerr.Invalid, "InvalidResourceId", "Resource id '%s' is invalid: %s", me.ID, me.Reason), true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return azerr.New(azerr.Invalid, "RequestBodyTooLarge", "The request content size exceeds the maximum of %d bytes.", MaxBodyBytes), true
	}
	return nil, false
}

func writeRefusal(w http.ResponseWriter, e *azerr.Error) {
	writeJSON(w, azerr.Status(e.Kind), map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
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

// client is how ARM's refusals name the caller: its UPN, else its object ID.
func client(p authn.Principal) string {
	if p.UPN != "" {
		return p.UPN
	}
	return p.ObjectID
}

// denied is ARM's refusal for a missing permission.
func denied(p authn.Principal, action, scope string) error {
	return rbac.Denied(client(p), p.ObjectID, action, scope)
}

// linkedDenied is ARM's refusal for a reference the caller may not join.
func linkedDenied(p authn.Principal, action, scope, linkedAction, linkedScope string) error {
	return azerr.New(azerr.Forbidden, "LinkedAuthorizationFailed",
		"The client '%s' with object id '%s' has permission to perform action '%s' on scope '%s'; however, it does not have permission to perform action(s) '%s' on the linked scope(s) '%s' (respectively) or the linked scope(s) are invalid.",
		client(p), p.ObjectID, action, scope, linkedAction, linkedScope)
}

func notFoundPath(c *call) error {
	return azerr.New(azerr.NotFound, "NotFound", "The requested path '%s' was not found or the method '%s' is not supported.", "/"+strings.Join(c.segs, "/"), c.r.Method)
}

// methodNotAllowed refuses a method the resource does not take.
func methodNotAllowed(c *call) error {
	return azerr.New(azerr.MethodNotAllowed, "MethodNotAllowed", "The method '%s' is not allowed on '/%s'.", c.r.Method, strings.Join(c.segs, "/"))
}
