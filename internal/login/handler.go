package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/sts"
)

// MaxBodyBytes bounds a token request body.
const MaxBodyBytes = 64 << 10

// TokenService is what the face needs from the token service.
type TokenService interface {
	Token(ctx context.Context, req *sts.TokenRequest) (*sts.TokenResponse, error)
	ResolveTenant(ctx context.Context, segment string) (directory.Tenant, error)
}

// KeySource publishes the signing keys.
type KeySource interface {
	JWKS() []byte
}

// Handler serves the login face.
type Handler struct {
	sts     TokenService
	device  DeviceFlow
	browser BrowserFlow
	keys    KeySource
	log     *slog.Logger
}

// New returns the login face. Each request's base and issuers come from
// its origin, which the listener records.
func New(s TokenService, keys KeySource, log *slog.Logger) *Handler {
	h := &Handler{sts: s, keys: keys, log: orDefault(log)}
	if d, ok := s.(DeviceFlow); ok {
		h.device = d
	}
	if b, ok := s.(BrowserFlow); ok {
		h.browser = b
	}
	return h
}

// compile-time check: the token service runs the device flow.
var _ DeviceFlow = (*sts.Service)(nil)

// Register adds the face's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", h.discoveryV1)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", h.discoveryV2)
	mux.HandleFunc("GET /{tenant}/azure/.well-known/openid-configuration", h.azureDiscoveryV1)
	mux.HandleFunc("GET /{tenant}/azure/v2.0/.well-known/openid-configuration", h.azureDiscoveryV2)
	mux.HandleFunc("GET /{tenant}/discovery/keys", h.jwks)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", h.jwks)
	mux.HandleFunc("GET /common/discovery/instance", h.instanceDiscovery)
	// MSAL Go asks /common/UserRealm, MSAL Python /common/userrealm.
	mux.HandleFunc("GET /common/UserRealm/{user}", h.userRealm)
	mux.HandleFunc("GET /common/userrealm/{user}", h.userRealm)
	mux.HandleFunc("/{tenant}/oauth2/token", h.token(sts.V1))
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", h.token(sts.V2))
	if h.device != nil {
		mux.HandleFunc("/{tenant}/oauth2/devicecode", h.deviceCode(sts.V1))
		mux.HandleFunc("/{tenant}/oauth2/v2.0/devicecode", h.deviceCode(sts.V2))
		mux.HandleFunc("/devicelogin", h.deviceLogin)
	}
	if h.browser != nil {
		mux.HandleFunc("/{tenant}/oauth2/authorize", h.authorize(sts.V1))
		mux.HandleFunc("/{tenant}/oauth2/v2.0/authorize", h.authorize(sts.V2))
	}
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=86400, private")
	_, _ = w.Write(h.keys.JWKS())
}

func (h *Handler) token(v sts.Version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "POST, OPTIONS")
			w.WriteHeader(http.StatusOK)
			return
		}
		if r.Method != http.MethodPost {
			h.writeError(w, r, sts.ErrMethod(r.Method))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.writeError(w, r, sts.ErrBodyTooLarge(MaxBodyBytes))
				return
			}
			// Entra reads an unparseable body as an empty one.
			h.writeError(w, r, sts.ErrMissingParam("grant_type"))
			return
		}
		o := origin.FromContext(r.Context())
		req := &sts.TokenRequest{Tenant: r.PathValue("tenant"), Version: v, Form: r.PostForm, Issuers: o.Issuers, LoginBases: o.LoginBases}
		if id, pass, ok := r.BasicAuth(); ok {
			req.BasicID, _ = url.QueryUnescape(id)
			req.BasicPass, _ = url.QueryUnescape(pass)
		}
		resp, err := h.sts.Token(r.Context(), req)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if strings.EqualFold(req.Tenant, "adfs") {
			// ADFS answers with numbers, and az adds expires_in to an int.
			resp.Version = sts.V2
		}
		writeJSON(w, http.StatusOK, render(resp))
	}
}

type v1Response struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

type v2Response struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// render shapes a token response as Entra does: the v1 endpoint sends
// numbers as JSON strings, v2 as JSON numbers.
func render(t *sts.TokenResponse) any {
	if t.Version == sts.V1 {
		s := strconv.FormatInt
		return v1Response{TokenType: t.TokenType, Scope: t.Scope, ExpiresIn: s(t.ExpiresIn, 10), ExtExpiresIn: s(t.ExtExpiresIn, 10),
			ExpiresOn: s(t.ExpiresOn, 10), NotBefore: s(t.NotBefore, 10), Resource: t.Resource, AccessToken: t.AccessToken,
			RefreshToken: t.RefreshToken, IDToken: t.IDToken, ClientInfo: t.ClientInfo}
	}
	return v2Response{TokenType: t.TokenType, Scope: t.Scope, ExpiresIn: t.ExpiresIn, ExtExpiresIn: t.ExtExpiresIn, AccessToken: t.AccessToken,
		RefreshToken: t.RefreshToken, IDToken: t.IDToken, ClientInfo: t.ClientInfo}
}

// userRealm tells MSAL how a user signs in: every aksid user is a managed
// (cloud) account, so MSAL goes on with the password grant, not WS-Trust.
func (h *Handler) userRealm(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("user")
	domain := user[strings.LastIndexByte(user, '@')+1:]
	kind := "Unknown"
	if t, err := h.sts.ResolveTenant(r.Context(), domain); err == nil && t.ID != "" && strings.Contains(user, "@") {
		kind = "Managed"
	}
	writeJSON(w, http.StatusOK, map[string]string{"ver": "1.0", "account_type": kind, "domain_name": domain,
		"cloud_instance_name": "microsoftonline.com", "cloud_audience_urn": "urn:federation:MicrosoftOnline"})
}

// instanceDiscovery answers MSAL's authority validation for this host.
func (h *Handler) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	o := origin.FromContext(r.Context())
	tenant := "common"
	if ae, err := url.Parse(r.URL.Query().Get("authorization_endpoint")); err == nil {
		if seg, _, ok := strings.Cut(strings.TrimPrefix(ae.Path, "/"), "/"); ok && seg != "" {
			tenant = seg
		}
	}
	host := strings.TrimPrefix(strings.TrimPrefix(o.Base, "https://"), "http://")
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": o.Base + "/" + url.PathEscape(tenant) + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  []any{map[string]any{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
	})
}
