package server

import (
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/aksid/aksid/internal/login"
	"github.com/aksid/aksid/internal/sts"
)

// Faces a proxied Azure host is served by.
const (
	FaceLogin = "login"
	FaceARM   = "arm"
	FaceGraph = "graph"
	FaceIMDS  = "imds"
	// FaceOIDC answers AKS clusters' OIDC issuer hosts.
	FaceOIDC = "oidc"
)

// oidcHost matches the regional hosts AKS publishes cluster issuers on.
var oidcHost = regexp.MustCompile(`^[a-z0-9]{2,40}\.oic\.prod-aks\.azure\.com$`)

// azureHosts are the public Azure names aksid impersonates in proxy mode;
// every other host is refused (the egress guard).
var azureHosts = map[string]string{
	"login.microsoftonline.com":   FaceLogin,
	"login.windows.net":           FaceLogin,
	"login.microsoft.com":         FaceLogin,
	"sts.windows.net":             FaceLogin,
	"management.azure.com":        FaceARM,
	"management.core.windows.net": FaceARM,
	"graph.microsoft.com":         FaceGraph,
}

// AzureFace tells which face answers an impersonated host ("" if none).
func AzureFace(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if oidcHost.MatchString(host) {
		return FaceOIDC
	}
	return azureHosts[host]
}

// Azure's own issuer bases, carried by tokens requested through the proxy.
const (
	V1IssuerBase = "https://sts.windows.net"
	V2IssuerBase = "https://login.microsoftonline.com"
)

// loginBases are every base a token or assertion of aksid may name.
func loginBases(direct string) []string {
	return []string{direct, "https://login.microsoftonline.com", "https://login.windows.net", "https://login.microsoft.com", V1IssuerBase}
}

// Origins describes each request: through the proxy, the Azure host it
// asked for and Azure's issuers; directly, the loopback name the client
// used (127.0.0.1 or localhost on aksid's port) with issuers on it. Any
// other Host falls back to the canonical URL, so a forged Host header
// cannot choose an issuer.
func Origins(canonical string) func(*http.Request) login.Origin {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(canonical, "https://"))
	return func(r *http.Request) login.Origin {
		if th := TunnelHost(r); th != "" {
			return login.Origin{Base: "https://" + th, Issuers: sts.Issuers{V1Base: V1IssuerBase, V2Base: V2IssuerBase},
				LoginBases: loginBases(canonical)}
		}
		base := canonical
		if h, p, err := net.SplitHostPort(r.Host); err == nil && p == port && IsLoopbackName(h) {
			base = "https://" + r.Host
		}
		bases := loginBases(base)
		if base != canonical {
			bases = append(bases, canonical)
		}
		return login.Origin{Base: base, Issuers: sts.Issuers{V1Base: base, V2Base: base}, LoginBases: bases}
	}
}
