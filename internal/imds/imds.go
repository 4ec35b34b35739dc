// Package imds is the managed-identity endpoint in its two forms: Azure Instance Metadata Service's token path (http://169.254.169.254, reached through aksid's proxy) and App Service's IDENTITY_ENDPOINT. Each caller speaks for one emulated host and gets tokens only for that host's identities.
package imds

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aksid/aksid/internal/hosts"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/sts"
)

// Paths of the two forms.
const (
	IMDSPath       = "/metadata/identity/oauth2/token"
	AppServicePath = "/msi/token"
)

// Hosts finds the caller's host and the identity it asks for.
type Hosts interface {
	Get(ctx context.Context, name string) (hosts.Host, error)
	Authenticate(ctx context.Context, name, secret string) (hosts.Host, error)
	BySecret(ctx context.Context, secret string) (hosts.Host, error)
	Resolve(ctx context.Context, h hosts.Host, sel msi.Selector) (hosts.Identity, error)
}

// Tokens issues managed-identity tokens.
type Tokens interface {
	ManagedIdentityToken(ctx context.Context, req sts.ManagedIdentityRequest) (*sts.TokenResponse, error)
}

// Handler serves both forms.
type Handler struct {
	hosts  Hosts
	tokens Tokens
	log    *slog.Logger
}

// New returns the managed-identity face. Its tokens carry Azure's own
// issuers, as the endpoint stands in for Azure's on a host.
func New(h Hosts, tokens Tokens, log *slog.Logger) *Handler {
	return &Handler{hosts: h, tokens: tokens, log: log}
}

// internal answers a 500, its cause logged under the request ID the
// server middleware set.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.log.ErrorContext(r.Context(), what, "request_id", w.Header().Get("x-ms-request-id"), "err", err)
	fail(w, http.StatusInternalServerError, "unknown_error", "An unexpected error occurred.")
}

// The endpoint's error body ({error, error_description}, as IMDS answers).
func fail(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ServeHTTP is the IMDS form, reached through the proxy. The caller names
// its host with the proxy URL's credentials (Proxy-Authorization: Basic
// host:secret); a caller that names none speaks for the default host.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != IMDSPath {
		fail(w, http.StatusNotFound, "not_found", "The requested path is not supported by aksid's managed-identity endpoint.")
		return
	}
	host, ok := h.proxyHost(w, r)
	if !ok {
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
	sel := msi.Selector{ClientID: q.Get("client_id"), ObjectID: q.Get("object_id"), ResourceID: q.Get("msi_res_id")}
	if sel.ResourceID == "" {
		sel.ResourceID = q.Get("mi_res_id")
	}
	h.issue(w, r, host, sel)
}

// proxyHost authenticates the caller's host from its proxy credentials.
func (h *Handler) proxyHost(w http.ResponseWriter, r *http.Request) (hosts.Host, bool) {
	r2 := &http.Request{Header: http.Header{"Authorization": r.Header.Values("Proxy-Authorization")}}
	name, secret, named := r2.BasicAuth()
	if !named && r.Header.Get("Proxy-Authorization") == "" {
		host, err := h.hosts.Get(r.Context(), hosts.DefaultName)
		if err != nil {
			h.internal(w, r, "imds: no default host", err)
			return hosts.Host{}, false
		}
		return host, true
	}
	host, err := h.hosts.Authenticate(r.Context(), name, secret)
	if err == nil {
		return host, true
	}
	if errors.Is(err, hosts.ErrUnauthenticated) {
		h.log.WarnContext(r.Context(), "imds: unknown host credentials", "host", name)
		w.Header().Set("Proxy-Authenticate", `Basic realm="aksid"`)
		fail(w, http.StatusProxyAuthRequired, "invalid_host_credentials",
			"aksid proxy: the proxy credentials name no host or carry a wrong host secret; use the HTTP_PROXY `aksid host env` prints.")
		return hosts.Host{}, false
	}
	h.internal(w, r, "imds: host lookup failed", err)
	return hosts.Host{}, false
}

// AppService is the App Service form: GET $IDENTITY_ENDPOINT with
// X-IDENTITY-HEADER: $IDENTITY_HEADER, the host's secret.
func (h *Handler) AppService() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != AppServicePath {
			fail(w, http.StatusNotFound, "not_found", "The requested path is not supported by aksid's managed-identity endpoint.")
			return
		}
		if r.Method != http.MethodGet {
			fail(w, http.StatusMethodNotAllowed, "invalid_request", "Only GET is supported.")
			return
		}
		secret := r.Header.Get("X-IDENTITY-HEADER")
		if secret == "" {
			fail(w, http.StatusBadRequest, "invalid_request", "The X-IDENTITY-HEADER header is required.")
			return
		}
		host, err := h.hosts.BySecret(r.Context(), secret)
		if errors.Is(err, hosts.ErrUnauthenticated) {
			fail(w, http.StatusUnauthorized, "unauthorized_client", "The X-IDENTITY-HEADER value is not valid.")
			return
		}
		if err != nil {
			h.internal(w, r, "appservice: host lookup failed", err)
			return
		}
		q := r.URL.Query()
		if q.Get("api-version") == "" {
			fail(w, http.StatusBadRequest, "invalid_request", "Required query variable 'api-version' is missing")
			return
		}
		sel := msi.Selector{ClientID: q.Get("client_id"), ObjectID: q.Get("object_id"), ResourceID: q.Get("mi_res_id")}
		if sel.ObjectID == "" {
			sel.ObjectID = q.Get("principal_id")
		}
		h.issue(w, r, host, sel)
	})
}

// issue picks the host's identity the request names and answers with its token.
func (h *Handler) issue(w http.ResponseWriter, r *http.Request, host hosts.Host, sel msi.Selector) {
	resource := r.URL.Query().Get("resource")
	if resource == "" {
		fail(w, http.StatusBadRequest, "invalid_request", "Required audience parameter not specified")
		return
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
	ident, err := h.hosts.Resolve(r.Context(), host, sel)
	switch {
	case errors.Is(err, hosts.ErrIdentityNotFound):
		fail(w, http.StatusBadRequest, "invalid_request", "Identity not found")
		return
	case errors.Is(err, hosts.ErrMultiple):
		fail(w, http.StatusBadRequest, "invalid_request",
			"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request")
		return
	case err != nil:
		h.internal(w, r, "imds: lookup failed", err)
		return
	}
	tok, err := h.tokens.ManagedIdentityToken(r.Context(), sts.ManagedIdentityRequest{TenantID: ident.TenantID,
		ClientID: ident.ClientID, ResourceID: ident.ResourceID, Resource: resource,
		Issuers: origin.Azure()})
	var se *sts.Error
	if errors.As(err, &se) {
		fail(w, http.StatusBadRequest, se.OAuth, "AADSTS"+strconv.Itoa(se.Code)+": "+se.Description)
		return
	}
	if err != nil {
		h.internal(w, r, "imds: token failed", err)
		return
	}
	s := strconv.FormatInt
	// IMDS and App Service send every number as a string.
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok.AccessToken, "client_id": ident.ClientID, "expires_in": s(tok.ExpiresIn, 10),
		"expires_on": s(tok.ExpiresOn, 10), "ext_expires_in": s(tok.ExtExpiresIn, 10), "not_before": s(tok.NotBefore, 10),
		"resource": resource, "token_type": "Bearer",
	})
}
