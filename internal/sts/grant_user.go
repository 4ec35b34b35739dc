package sts

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/directory"
)

// delegated is what a user flow's scope (or v1 resource) asks for.
type delegated struct {
	resource string // the resource the scopes name
	echo     string // the requested scopes, echoed back (MSAL checks them)
	openid   bool
	offline  bool
}

// delegatedFrom reads a user flow's scopes: OIDC scopes are flags, the
// others must all name one resource ("<resource>/<permission>" or a bare
// Microsoft Graph permission).
func delegatedFrom(req *TokenRequest) (delegated, error) {
	var d delegated
	var echo []string
	for _, sc := range strings.Fields(req.Form.Get("scope")) {
		switch strings.ToLower(sc) {
		case "openid":
			d.openid = true
			continue
		case "offline_access":
			d.offline = true
			continue
		case "profile", "email":
			continue
		}
		res := "https://graph.microsoft.com"
		if i := strings.LastIndex(sc, "/"); i > 0 {
			res = sc[:i]
		}
		if d.resource != "" && !strings.EqualFold(directory.NormalizeURI(d.resource), directory.NormalizeURI(res)) {
			return d, errScopesMixResources(req.Form.Get("scope"))
		}
		d.resource = res
		echo = append(echo, sc)
	}
	if req.Version == V1 {
		if r := req.Form.Get("resource"); r != "" {
			d.resource = r
		}
		d.offline, d.openid = true, d.openid || req.Form.Get("scope") == ""
	}
	if d.resource == "" {
		if req.Form.Get("scope") == "" && req.Form.Get("resource") == "" {
			return d, errMissingParam("scope")
		}
		d.resource = "https://graph.microsoft.com"
		echo = append(echo, "https://graph.microsoft.com/User.Read")
	}
	d.echo = strings.Join(echo, " ")
	return d, nil
}

// userClient looks up the client and resource for a user flow and checks
// the client: public clients present no credential, confidential ones do.
func (s *Service) userClient(ctx context.Context, r *grantRequest, d delegated) (directory.Lookup, error) {
	look, err := s.dir.ClientAndResource(ctx, r.tenant.ID, r.clientID, lookupName(r.TokenRequest, d.resource))
	if err != nil {
		return look, err
	}
	if look.ClientErr != nil {
		if errors.Is(look.ClientErr, directory.ErrApplicationNotFound) || errors.Is(look.ClientErr, directory.ErrPrincipalNotFound) {
			return look, errClientNotFound(r.clientID, r.tenant.DisplayName)
		}
		return look, look.ClientErr
	}
	if !look.Client.App.PublicClient {
		if _, err := s.authenticate(ctx, r, look.Client); err != nil {
			return look, err
		}
	} else if r.Form.Get("client_secret") != "" || r.Form.Get("client_assertion") != "" {
		return look, errPublicClient()
	}
	if look.ResourceErr != nil {
		if errors.Is(look.ResourceErr, directory.ErrApplicationNotFound) || errors.Is(look.ResourceErr, directory.ErrPrincipalNotFound) {
			return look, errResourceNotFound(d.resource, r.tenant.DisplayName)
		}
		return look, look.ResourceErr
	}
	return look, nil
}

// password is the resource-owner password grant (ROPC): the user's name
// and password, checked against the argon2id hash.
type password struct{ s *Service }

func (g password) Issue(ctx context.Context, r *grantRequest) (*TokenResponse, error) {
	name, pw := r.Form.Get("username"), r.Form.Get("password")
	if name == "" {
		return nil, errMissingParam("username")
	}
	if pw == "" {
		return nil, errMissingParam("password")
	}
	d, err := delegatedFrom(r.TokenRequest)
	if err != nil {
		return nil, err
	}
	user, err := g.s.VerifyUserPassword(ctx, r.tenant.ID, name, pw)
	if err != nil {
		return nil, err
	}
	if r.tenant.ID == "" {
		// common, organizations or az's /adfs authority: the user's tenant.
		if r.tenant, err = g.s.resolveTenant(ctx, user.TenantID); err != nil {
			return nil, err
		}
	}
	r.resource = d.resource
	look, err := g.s.userClient(ctx, r, d)
	if err != nil {
		return nil, err
	}
	if user.RequireMFA {
		// A password alone cannot satisfy MFA, and ROPC has no second step.
		return nil, errMFARequired(look.Resource.App.AppID)
	}
	return g.s.issueUserTokens(ctx, r, userSession{user: user, client: look.Client, resource: look.Resource, scope: d.echo,
		amr: []string{"pwd"}, authTime: g.s.wall.Now().Unix(), offline: d.offline, openid: d.openid})
}

// refresh redeems a refresh token (once: they rotate) for new tokens, for
// the same or another resource, as Entra's multi-resource refresh tokens.
type refresh struct{ s *Service }

func (g refresh) Issue(ctx context.Context, r *grantRequest) (*TokenResponse, error) {
	token := r.Form.Get("refresh_token")
	if token == "" {
		return nil, errMissingParam("refresh_token")
	}
	d, err := delegatedFrom(r.TokenRequest)
	if err != nil && r.Form.Get("scope") != "" {
		return nil, err
	}
	rec, err := g.s.redeemRefreshToken(ctx, token, r.clientID)
	if err != nil {
		return nil, err
	}
	if r.tenant.ID == "" {
		if r.tenant, err = g.s.resolveTenant(ctx, rec.TenantID); err != nil {
			return nil, err
		}
	} else if r.tenant.ID != rec.TenantID {
		return nil, errRefreshInvalid()
	}
	if d.resource == "" {
		r.Form.Set("scope", rec.Scope)
		if d, err = delegatedFrom(r.TokenRequest); err != nil {
			return nil, err
		}
	}
	user, err := g.s.dir.User(ctx, rec.TenantID, rec.UserID)
	if err != nil {
		return nil, errUserNotFound(r.tenant.DisplayName)
	}
	if !user.AccountEnabled {
		return nil, errUserDisabled()
	}
	if !user.SessionsValidFrom.IsZero() && !rec.Issued.After(user.SessionsValidFrom) {
		return nil, errRefreshRevoked()
	}
	r.resource = d.resource
	look, err := g.s.userClient(ctx, r, d)
	if err != nil {
		return nil, err
	}
	return g.s.issueUserTokens(ctx, r, userSession{user: user, client: look.Client, resource: look.Resource, scope: d.echo,
		amr: rec.AMR, authTime: rec.AuthTime, offline: true, openid: d.openid})
}

// signedIn is a sign-in a person completed on a page (device code,
// browser) that a client now redeems.
type signedIn struct {
	tenantID, userID string
	scope, resource  string // as the client first asked
	amr              []string
	authTime         int64
	nonce            string
}

// issueForSignIn hands out the tokens of a completed page sign-in: the
// user's tenant, the scopes asked for at the start unless the redeeming
// request names its own, and refresh and ID tokens.
func (s *Service) issueForSignIn(ctx context.Context, r *grantRequest, si signedIn) (*TokenResponse, error) {
	var err error
	if r.tenant.ID == "" || r.tenant.ID != si.tenantID {
		if r.tenant, err = s.resolveTenant(ctx, si.tenantID); err != nil {
			return nil, err
		}
	}
	if r.Form.Get("scope") == "" && si.scope != "" {
		r.Form.Set("scope", si.scope)
	}
	if r.Form.Get("resource") == "" && si.resource != "" {
		r.Form.Set("resource", si.resource)
	}
	d, err := delegatedFrom(r.TokenRequest)
	if err != nil {
		return nil, err
	}
	user, err := s.dir.User(ctx, si.tenantID, si.userID)
	if err != nil {
		return nil, errUserNotFound(r.tenant.DisplayName)
	}
	if !user.AccountEnabled {
		return nil, errUserDisabled()
	}
	r.resource = d.resource
	look, err := s.userClient(ctx, r, d)
	if err != nil {
		return nil, err
	}
	return s.issueUserTokens(ctx, r, userSession{user: user, client: look.Client, resource: look.Resource, scope: d.echo,
		amr: si.amr, authTime: si.authTime, offline: true, openid: true, nonce: si.nonce})
}
