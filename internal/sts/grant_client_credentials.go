package sts

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/directory"
)

// clientCredentials is the app-only grant: a confidential client proves
// itself with a secret or a certificate-signed assertion.
type clientCredentials struct{ s *Service }

func (g clientCredentials) Issue(ctx context.Context, r *grantRequest) (*TokenResponse, error) {
	resource, err := resourceFrom(r.TokenRequest)
	if err != nil {
		return nil, err
	}
	r.resource = resource
	look, err := g.s.dir.ClientAndResource(ctx, r.tenant.ID, r.clientID, lookupName(r.TokenRequest, resource))
	if err != nil {
		return nil, err
	}
	if look.ClientErr != nil {
		if errors.Is(look.ClientErr, directory.ErrApplicationNotFound) || errors.Is(look.ClientErr, directory.ErrPrincipalNotFound) {
			return nil, errClientNotFound(r.clientID, r.tenant.DisplayName)
		}
		return nil, look.ClientErr
	}
	acr, err := g.s.authenticate(ctx, r, look.Client)
	if err != nil {
		return nil, err
	}
	if look.ResourceErr != nil {
		if errors.Is(look.ResourceErr, directory.ErrApplicationNotFound) || errors.Is(look.ResourceErr, directory.ErrPrincipalNotFound) {
			return nil, errResourceNotFound(resource, r.tenant.DisplayName)
		}
		return nil, look.ResourceErr
	}
	if look.Client.SP.ServicePrincipalType == directory.ManagedIdentityType {
		// Only a federated credential gets a managed identity this far:
		// its token is the one the managed-identity endpoint would give.
		return g.s.issue(r, look.Client, look.Resource, acr, tokenExtras{lifetime: managedIdentityLifetime, mirid: identityResourceID(look.Client.SP)})
	}
	return g.s.issueAppToken(r, look.Client, look.Resource, acr)
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
