package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

// Graph's error codes.
const (
	codeInvalidToken = "InvalidAuthenticationToken"
	codeDenied       = "Authorization_RequestDenied"
	codeNotFound     = "Request_ResourceNotFound"
	codeBadRequest   = "Request_BadRequest"
	codeConflict     = "Request_MultipleObjectsWithSameKeyValue"
)

// apiError is a refusal rendered as Graph's error body.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

var errDenied = &apiError{http.StatusForbidden, codeDenied, "Insufficient privileges to complete the operation."}

func badRequest(msg string) *apiError { return &apiError{http.StatusBadRequest, codeBadRequest, msg} }

func notFound(id string) *apiError {
	return &apiError{http.StatusNotFound, codeNotFound,
		"Resource '" + id + "' does not exist or one of its queried reference-property objects are not present."}
}

// authFailure words a token refusal as Graph does.
func authFailure(err error) *apiError {
	msg := "Access token validation failure."
	switch {
	case errors.Is(err, authn.ErrNoToken):
		msg = "Access token is empty."
	case errors.Is(err, authn.ErrExpired):
		msg = "Lifetime validation failed, the token is expired."
	case errors.Is(err, authn.ErrAudience):
		msg = "Access token validation failure. Invalid audience."
	}
	return &apiError{http.StatusUnauthorized, codeInvalidToken, msg}
}

// errorBody is Graph's error document; az reads error.message directly
// and crashes without it.
type errorBody struct {
	Error struct {
		Code       string     `json:"code"`
		Message    string     `json:"message"`
		InnerError innerError `json:"innerError"`
	} `json:"error"`
}

type innerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// toAPIError maps domain and parser refusals to Graph's codes. Anything
// else is internal: logged, and answered without detail.
func (h *Handler) toAPIError(c *call, err error) *apiError {
	var ae *apiError
	var oe *odata.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &oe):
		return badRequestCode(oe.Code, oe.Message)
	case errors.As(err, &tooBig):
		return &apiError{http.StatusRequestEntityTooLarge, "Request_EntityTooLarge", "The request body is larger than the limit of 1048576 bytes."}
	case errors.Is(err, directory.ErrObjectNotFound), errors.Is(err, directory.ErrApplicationNotFound),
		errors.Is(err, directory.ErrPrincipalNotFound), errors.Is(err, directory.ErrUserNotFound):
		id, ok := directory.MissingID(err)
		if !ok {
			id = c.r.PathValue("id")
		}
		return notFound(id)
	case errors.Is(err, directory.ErrInvalidArgument):
		msg, ok := directory.Reason(err)
		if !ok {
			msg = "Invalid request."
		}
		return badRequest(msg)
	case errors.Is(err, directory.ErrTenantNotFound):
		return &apiError{http.StatusUnauthorized, codeInvalidToken, "Access token validation failure. Invalid tenant."}
	}
	if errors.Is(err, store.ErrUnavailable) {
		h.log.WarnContext(c.ctx(), "graph: store unavailable", "request_id", c.w.Header().Get("request-id"), "err", err)
		return &apiError{http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable. Please retry the request."}
	}
	h.log.ErrorContext(c.ctx(), "graph: internal error", "request_id", c.w.Header().Get("request-id"), "err", err)
	return &apiError{http.StatusInternalServerError, "generalException", "General exception while processing."}
}

func badRequestCode(code, msg string) *apiError {
	return &apiError{http.StatusBadRequest, code, msg}
}

// writeError is the face's one error writer.
func (h *Handler) writeError(c *call, err error) {
	ae := h.toAPIError(c, err)
	if ae.status == http.StatusUnauthorized {
		c.w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+directory.MicrosoftGraphApp+`"`)
	}
	var body errorBody
	body.Error.Code, body.Error.Message = ae.code, ae.message
	body.Error.InnerError = innerError{
		Date:            time.Now().UTC().Format("2006-01-02T15:04:05"),
		RequestID:       c.w.Header().Get("request-id"),
		ClientRequestID: c.w.Header().Get("client-request-id"),
	}
	writeJSON(c.w, ae.status, body)
}

// stampIDs sets Graph's request-id (the server's x-ms-request-id) and
// echoes the client's request ID, as Graph does on every answer.
func stampIDs(w http.ResponseWriter, r *http.Request) {
	rid := w.Header().Get("x-ms-request-id")
	if rid == "" {
		rid = uuid.NewString()
		w.Header().Set("x-ms-request-id", rid)
	}
	cid := rid
	for _, hdr := range []string{"client-request-id", "x-ms-client-request-id"} {
		if id, err := uuid.Parse(r.Header.Get(hdr)); err == nil {
			cid = id.String()
			break
		}
	}
	w.Header().Set("request-id", rid)
	w.Header().Set("client-request-id", cid)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"generalException","message":"General exception while processing."}}`)
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Header().Set("OData-Version", "4.0")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
