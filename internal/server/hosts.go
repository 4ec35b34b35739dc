package server

import (
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/aksid/aksid/internal/origin"
)

// Faces a proxied Azure host is served by.
const (
	FaceLogin = "login"
	FaceARM   = "arm"
	FaceGraph = "graph"
	FaceIMDS  = "imds"
	// FaceOIDC answers AKS clusters' OIDC issuer hosts.
	FaceOIDC = "oidc"
	// FaceIAM is the portal's IAM API (admin consent).
	FaceIAM = "iam"
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
	"main.iam.ad.ext.azure.com":   FaceIAM,
}

// AzureFace tells which face answers an impersonated host ("" if none).
func AzureFace(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if oidcHost.MatchString(host) {
		return FaceOIDC
	}
	return azureHosts[host]
}

// Origins describes each request: through the proxy, the Azure host it
// asked for and Azure's issuers; directly, the loopback name the client
// used (127.0.0.1 or localhost on aksid's port) with issuers on it. Any
// other Host falls back to the canonical URL, so a forged Host header
// cannot choose an issuer.
func Origins(canonical string) func(*http.Request) origin.Origin {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(canonical, "https://"))
	return func(r *http.Request) origin.Origin {
		if th := TunnelHost(r); th != "" {
			return origin.Proxied(th, canonical)
		}
		base := canonical
		if h, p, err := net.SplitHostPort(r.Host); err == nil && p == port && IsLoopbackName(h) {
			base = "https://" + r.Host
		}
		return origin.Direct(base, canonical)
	}
}
