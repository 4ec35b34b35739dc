// Package imds is the managed-identity endpoint (Azure Instance Metadata Service's token path), reached through aksid's proxy as http://169.254.169.254.
package imds

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/sts"
)

// Identities finds the identity a request names.
type Identities interface {
	Find(ctx context.Context, sel msi.Selector) (msi.Identity, error)
}

// Tokens issues managed-identity tokens.
type Tokens interface {
	ManagedIdentityToken(ctx context.Context, req sts.ManagedIdentityRequest) (*sts.TokenResponse, error)
}

// Handler serves GET /metadata/identity/oauth2/token.
type Handler struct {
	ids    Identities
	tokens Tokens
	log    *slog.Logger
}

// New returns the IMDS face. It is reachable only through the proxy, so
// its tokens carry Azure's own issuers.
func New(ids Identities, tokens Tokens, log *slog.Logger) *Handler {
	return &Handler{ids: ids, tokens: tokens, log: log}
}

// IMDS's own error body.
func fail(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metadata/identity/oauth2/token" {
		fail(w, http.StatusNotFound, "not_found", "The requested path is not supported by aksid's managed-identity endpoint.")
		return
	}
	if r.Method != http.MethodGet {
		fail(w, http.StatusMethodNotAllowed, "invalid_request", "Only GET is supported.")
		return
	}
	// IMDS refuses requests without the header: it keeps browsers and
	// redirects from reaching it.
	if r.Header.Get("Metadata") != "true" {
		fail(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "Required query variable 'api-version' is missing")
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "Required audience parameter not specified")
		return
	}
	sel := msi.Selector{ClientID: q.Get("client_id"), ObjectID: q.Get("object_id"), ResourceID: q.Get("msi_res_id")}
	if sel.ResourceID == "" {
		sel.ResourceID = q.Get("mi_res_id")
	}
	n := 0
	for _, v := range []string{sel.ClientID, sel.ObjectID, sel.ResourceID} {
		if v != "" {
			n++
		}
	}
	if n > 1 {
		fail(w, http.StatusBadRequest, "invalid_request", "Multiple identity selectors were specified; give one of client_id, object_id or msi_res_id.")
		return
	}
	if n == 0 {
		// A system-assigned identity belongs to a host; aksid binds none yet.
		fail(w, http.StatusBadRequest, "invalid_request", "Identity not found")
		return
	}
	ident, err := h.ids.Find(r.Context(), sel)
	if err != nil {
		if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
			fail(w, http.StatusBadRequest, "invalid_request", "Identity not found")
			return
		}
		h.log.ErrorContext(r.Context(), "imds: lookup failed", "err", err)
		fail(w, http.StatusInternalServerError, "unknown_error", "An unexpected error occurred.")
		return
	}
	tok, err := h.tokens.ManagedIdentityToken(r.Context(), sts.ManagedIdentityRequest{TenantID: ident.Properties.TenantID,
		ClientID: ident.Properties.ClientID, ResourceID: ident.ID, Resource: resource,
		Issuers: sts.Issuers{V1Base: "https://sts.windows.net", V2Base: "https://login.microsoftonline.com"}})
	var se *sts.Error
	if errors.As(err, &se) {
		fail(w, http.StatusBadRequest, se.OAuth, "AADSTS"+strconv.Itoa(se.Code)+": "+se.Description)
		return
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "imds: token failed", "err", err)
		fail(w, http.StatusInternalServerError, "unknown_error", "An unexpected error occurred.")
		return
	}
	s := strconv.FormatInt
	// IMDS sends every number as a string.
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok.AccessToken, "client_id": ident.Properties.ClientID, "expires_in": s(tok.ExpiresIn, 10),
		"expires_on": s(tok.ExpiresOn, 10), "ext_expires_in": s(tok.ExtExpiresIn, 10), "not_before": s(tok.NotBefore, 10),
		"resource": resource, "token_type": "Bearer",
	})
}
