package sts

import (
	"context"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
)

// ManagedIdentityRequest asks for a token for a managed identity. The
// managed-identity endpoint has already decided that the caller may use it.
type ManagedIdentityRequest struct {
	TenantID   string
	ClientID   string // the identity's client ID (its principal's appId)
	ResourceID string // the identity's ARM resource ID, carried as xms_mirid
	Resource   string // the audience asked for
	Issuers    origin.Issuers
}

// managedIdentityLifetime is what IMDS hands out: a day.
const managedIdentityLifetime = 86399

// ManagedIdentityToken issues an app token for a managed identity.
func (s *Service) ManagedIdentityToken(ctx context.Context, req ManagedIdentityRequest) (*TokenResponse, error) {
	tenant, err := s.resolveTenant(ctx, req.TenantID)
	if err != nil {
		return nil, err
	}
	look, err := s.dir.ClientAndResource(ctx, tenant.ID, req.ClientID, req.Resource)
	if err != nil {
		return nil, err
	}
	if look.ClientErr != nil || look.Client.SP.ServicePrincipalType != directory.ManagedIdentityType {
		return nil, errClientNotFound(req.ClientID, tenant.DisplayName)
	}
	if notFound(look.ResourceErr) {
		return nil, errResourceNotFound(req.Resource, req.TenantID)
	} else if look.ResourceErr != nil {
		return nil, look.ResourceErr
	}
	gr := &grantRequest{TokenRequest: &TokenRequest{Version: V1, Issuers: req.Issuers}, tenant: tenant,
		clientID: req.ClientID, resource: req.Resource}
	return s.issue(gr, look.Client, look.Resource, acrCert, tokenExtras{lifetime: managedIdentityLifetime, mirid: req.ResourceID})
}

// SignIn signs in as a service principal with its secret, as AKS checks a
// cluster's credential, and returns the token response (or Entra's refusal).
func (s *Service) SignIn(ctx context.Context, tenantID, clientID, secret, resource string) (*TokenResponse, error) {
	form := map[string][]string{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {secret}, "resource": {resource}}
	return s.Token(ctx, &TokenRequest{Tenant: tenantID, Version: V1, Form: form,
		Issuers: origin.Azure()})
}
