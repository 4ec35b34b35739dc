package login

import (
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/origin"
)

// discoveryDoc is an OpenID provider configuration as Entra publishes it.
type discoveryDoc struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	MicrosoftMultiRefreshToken        bool     `json:"microsoft_multi_refresh_token,omitempty"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"` // v2
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint,omitempty"` // v2
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MsgraphHost                       string   `json:"msgraph_host"`
	RbacURL                           string   `json:"rbac_url"`
}

// discoveryKind is which configuration document is asked for.
type discoveryKind struct {
	v2 bool
	// azure: Azure's own issuers, with endpoints on the host asked. A
	// Kubernetes API server verifying tokens that clients got through the
	// proxy (iss https://sts.windows.net/{tid}/) names this document as its
	// discoveryURL and reaches aksid directly.
	azure bool
}

func (h *Handler) discoveryV1(w http.ResponseWriter, r *http.Request) {
	h.discovery(w, r, discoveryKind{})
}
func (h *Handler) discoveryV2(w http.ResponseWriter, r *http.Request) {
	h.discovery(w, r, discoveryKind{v2: true})
}
func (h *Handler) azureDiscoveryV1(w http.ResponseWriter, r *http.Request) {
	h.discovery(w, r, discoveryKind{azure: true})
}
func (h *Handler) azureDiscoveryV2(w http.ResponseWriter, r *http.Request) {
	h.discovery(w, r, discoveryKind{v2: true, azure: true})
}

// discovery serves the v1 or v2 configuration of a tenant. A named
// tenant's endpoints carry its GUID; common and organizations keep the
// segment and a {tenantid} issuer template, as Entra does.
func (h *Handler) discovery(w http.ResponseWriter, r *http.Request, kind discoveryKind) {
	segment := r.PathValue("tenant")
	t, err := h.sts.ResolveTenant(r.Context(), segment)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	o := origin.FromContext(r.Context())
	// Graph hosts userinfo: Azure's through the proxy, aksid's own URL
	// directly (also for the Azure-issuer document, fetched directly).
	userinfo := o.Issuers.Graph() + "/oidc/userinfo"
	if kind.azure {
		o.Issuers = origin.Azure()
	}
	tid, path := "{tenantid}", strings.ToLower(segment)
	var region *string
	if t.ID != "" {
		tid, path = t.ID, t.ID
		na := "NA"
		region = &na
	}
	base := o.Base + "/" + path
	doc := discoveryDoc{
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		ResponseModesSupported:            []string{"query", "fragment", "form_post"},
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		TenantRegionScope:                 region,
		CloudInstanceName:                 "microsoftonline.com",
		CloudGraphHostName:                "graph.windows.net",
		MsgraphHost:                       "graph.microsoft.com",
		RbacURL:                           "https://pas.windows.net",
	}
	if kind.v2 {
		doc.TokenEndpoint = base + "/oauth2/v2.0/token"
		doc.JWKSURI = base + "/discovery/v2.0/keys"
		doc.ResponseTypesSupported = []string{"code", "id_token", "code id_token", "id_token token"}
		doc.ScopesSupported = []string{"openid", "profile", "email", "offline_access"}
		doc.Issuer = o.Issuers.V2(tid)
		doc.AuthorizationEndpoint = base + "/oauth2/v2.0/authorize"
		doc.DeviceAuthorizationEndpoint = base + "/oauth2/v2.0/devicecode"
		doc.EndSessionEndpoint = base + "/oauth2/v2.0/logout"
		doc.ClaimsSupported = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}
		doc.UserinfoEndpoint = userinfo
		doc.KerberosEndpoint = base + "/kerberos"
	} else {
		doc.TokenEndpoint = base + "/oauth2/token"
		doc.JWKSURI = base + "/discovery/keys"
		doc.ResponseTypesSupported = []string{"code", "id_token", "code id_token", "token id_token", "token"}
		doc.ScopesSupported = []string{"openid"}
		doc.Issuer = o.Issuers.V1(tid)
		doc.MicrosoftMultiRefreshToken = true
		doc.AuthorizationEndpoint = base + "/oauth2/authorize"
		doc.DeviceAuthorizationEndpoint = base + "/oauth2/devicecode"
		doc.EndSessionEndpoint = base + "/oauth2/logout"
		doc.ClaimsSupported = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"}
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
	writeJSON(w, http.StatusOK, doc)
}
