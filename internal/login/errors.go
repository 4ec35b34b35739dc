// Package login is the HTTP face of Entra ID's login service: discovery, signing keys and the token endpoints.
package login

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/sts"
	"github.com/google/uuid"
)

// errorBody is Entra's error document, fields in Entra's order.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
	Suberror         string `json:"suberror,omitempty"`
}

// statusFor maps an OAuth error to Entra's HTTP status: 401 for
// invalid_client (az's MSAL caches 400 answers for 60 s, not 401s).
func statusFor(e *sts.Error) int {
	switch {
	case e.OAuth == "invalid_client":
		return http.StatusUnauthorized
	case e.Code == 90015:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// writeError is the login face's one error writer. Unknown errors are
// logged with the request's trace ID and answered without internals.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var se *sts.Error
	if errors.Is(err, store.ErrUnavailable) {
		// Entra's MsodsServiceUnavailable: the directory is out of reach.
		h.log.WarnContext(r.Context(), "login: store unavailable", "trace_id", traceID(w), "err", err)
		w.Header().Set("Retry-After", "1")
		writeBody(w, r, http.StatusServiceUnavailable, &sts.Error{OAuth: "temporarily_unavailable", Code: 90033, Description: "A transient error has occurred. Please retry."})
		return
	}
	if !errors.As(err, &se) {
		h.log.ErrorContext(r.Context(), "login: internal error", "trace_id", traceID(w), "err", err)
		se = &sts.Error{OAuth: "server_error", Code: 50000, Description: "There was an error issuing a token or an issue with our sign-in service."}
		writeBody(w, r, http.StatusInternalServerError, se)
		return
	}
	h.log.InfoContext(r.Context(), "login: refused", "trace_id", traceID(w), "code", se.Code, "error", se.OAuth)
	writeBody(w, r, statusFor(se), se)
}

func writeBody(w http.ResponseWriter, r *http.Request, status int, se *sts.Error) {
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	tid, cid := traceID(w), correlationID(r)
	body := errorBody{
		Error:            se.OAuth,
		ErrorDescription: "AADSTS" + strconv.Itoa(se.Code) + ": " + se.Description + " Trace ID: " + tid + " Correlation ID: " + cid + " Timestamp: " + now,
		ErrorCodes:       []int{se.Code},
		Timestamp:        now,
		TraceID:          tid,
		CorrelationID:    cid,
		ErrorURI:         "https://login.microsoftonline.com/error?code=" + strconv.Itoa(se.Code),
		Suberror:         se.Suberror,
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "-1")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// traceID is the request ID the server middleware set on the response.
func traceID(w http.ResponseWriter) string {
	if id := w.Header().Get("x-ms-request-id"); id != "" {
		return id
	}
	id := uuid.NewString()
	w.Header().Set("x-ms-request-id", id)
	return id
}

// correlationID echoes the client's client-request-id when it is a GUID.
func correlationID(r *http.Request) string {
	if id, err := uuid.Parse(r.Header.Get("client-request-id")); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// logger default keeps handlers usable in tests without wiring.
func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
