package sts

import (
	"context"
	"strings"

	"github.com/aksid/aksid/internal/directory"
)

// clientCredentials is the app-only grant: a confidential client proves
// itself with a secret or a certificate-signed assertion.
type clientCredentials struct{ s *Service }

func (g clientCredentials) Check(ctx context.Context, r *grantRequest) (*redemption, error) {
	resource, err := resourceFrom(r.TokenRequest)
	if err != nil {
		return nil, err
	}
	r.resource = resource
	return &redemption{resource: resource, issue: func(ctx context.Context, c authedClient) (*TokenResponse, error) {
		if c.Client.SP.ServicePrincipalType == directory.ManagedIdentityType {
			// Only a federated credential gets a managed identity this far:
			// its token is the one the managed-identity endpoint would give.
			return g.s.issue(r, c.Client, c.Resource, c.acr, tokenExtras{lifetime: managedIdentityLifetime, mirid: identityResourceID(c.Client.SP)})
		}
		return g.s.issueAppToken(r, c.Client, c.Resource, c.acr)
	}}, nil
}

// resourceFrom reads the requested resource: v1 takes resource=, v2 a
// single "<resource>/.default" scope beside the OIDC scopes clients add.
func resourceFrom(req *TokenRequest) (string, error) {
	if req.Version == V1 {
		if r := req.Form.Get("resource"); r != "" {
			return r, nil
		}
		if req.Form.Get("scope") == "" {
			return "", errMissingParam("resource")
		}
	}
	scope := req.Form.Get("scope")
	if strings.TrimSpace(scope) == "" {
		return "", errMissingParam("scope")
	}
	var resource string
	for _, sc := range strings.Fields(scope) {
		switch strings.ToLower(sc) {
		case "openid", "offline_access", "profile", "email":
			continue
		}
		if resource != "" {
			return "", errInvalidScope(scope)
		}
		r, ok := strings.CutSuffix(sc, "/.default")
		if !ok {
			return "", errScopeNotDefault(scope)
		}
		if r == "" {
			return "", errInvalidScope(scope)
		}
		resource = r
	}
	if resource == "" {
		return "", errInvalidScope(scope)
	}
	return resource, nil
}

// identityResourceID is the ARM ID a managed identity's principal names.
func identityResourceID(sp directory.ServicePrincipal) string {
	for _, n := range sp.ServicePrincipalNames {
		if strings.HasPrefix(n, "/subscriptions/") {
			return n
		}
	}
	return ""
}

// lookupName maps the resource to the application that answers for it.
// In custom-cloud mode az asks for Graph tokens with aksid's own base URL
// as the resource (its microsoftGraphResourceId), so that base is Graph;
// the token's audience stays the string asked for.
func lookupName(req *TokenRequest, resource string) string {
	n := directory.NormalizeURI(resource)
	for _, b := range req.LoginBases {
		if n == directory.NormalizeURI(b) {
			return directory.MicrosoftGraphApp
		}
	}
	return resource
}
