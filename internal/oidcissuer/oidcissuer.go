// Package oidcissuer is the HTTP face of AKS clusters' OIDC issuers
// (https://<region>.oic.prod-aks.azure.com/<tenant>/<guid>/): the
// discovery document and key set that Entra reads to trust a cluster's
// service-account tokens.
package oidcissuer

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
)

// Issuers is what the face reads.
type Issuers interface {
	Issuer(ctx context.Context, tenantID, issuerID string) (aks.OIDCIssuer, error)
}

// Handler serves the issuers; host tells the Azure host a request came
// in on ("" when it did not come through the proxy).
type Handler struct {
	issuers Issuers
	host    func(*http.Request) string
	log     *slog.Logger
}

// New returns the face.
func New(issuers Issuers, host func(*http.Request) string, log *slog.Logger) *Handler {
	return &Handler{issuers: issuers, host: host, log: log}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) < 3 {
		http.NotFound(w, r)
		return
	}
	rest := strings.Join(segs[2:], "/")
	if rest != ".well-known/openid-configuration" && rest != "openid/v1/jwks" {
		http.NotFound(w, r)
		return
	}
	iss, err := h.issuers.Issuer(r.Context(), segs[0], segs[1])
	if err != nil {
		if e, ok := azerr.As(err); !ok || e.Kind != azerr.NotFound {
			h.log.ErrorContext(r.Context(), "oidc issuer: internal error", "request_id", w.Header().Get("x-ms-request-id"), "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
			return
		}
		http.NotFound(w, r)
		return
	}
	// An issuer answers only on its own host: another region's name
	// would publish a document whose issuer is not where it was read.
	if !strings.HasPrefix(iss.Issuer, "https://"+strings.ToLower(h.host(r))+"/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	if rest == "openid/v1/jwks" {
		writeJSON(w, http.StatusOK, iss.Keys)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss.Issuer,
		"jwks_uri":                              iss.Issuer + "openid/v1/jwks",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
