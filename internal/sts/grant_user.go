package sts

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
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

// userRedemption is a user flow's redemption: tokens for us, once Token
// has authenticated the client and found the resource.
func (s *Service) userRedemption(r *grantRequest, d delegated, us userSession) *redemption {
	r.resource = d.resource
	us.scope, us.openid = d.echo, us.openid || d.openid
	return &redemption{resource: d.resource, public: true,
		prepare: func(ctx context.Context, c authedClient) error {
			us.client, us.resource = c.Client, c.Resource
			var err error
			us.scp, err = s.scopeClaim(ctx, r.tenant.ID, us)
			return err
		},
		issue: func(ctx context.Context, c authedClient) (*TokenResponse, error) {
			return s.issueUserTokens(ctx, r, us)
		}}
}

// password is the resource-owner password grant (ROPC): the user's name
// and password, checked against the argon2id hash.
type password struct{ s *Service }

func (g password) Check(ctx context.Context, r *grantRequest) (*redemption, error) {
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
	red := g.s.userRedemption(r, d, userSession{user: user, amr: []string{"pwd"}, authTime: g.s.wall.Now().Unix(), offline: d.offline})
	if user.RequireMFA {
		// A password alone cannot satisfy MFA, and ROPC has no second step.
		red.issue = func(ctx context.Context, c authedClient) (*TokenResponse, error) {
			return nil, errMFARequired(c.Resource.App.AppID)
		}
	}
	return red, nil
}

// refresh redeems a refresh token (once: they rotate) for new tokens, for
// the same or another resource, as Entra's multi-resource refresh tokens.
type refresh struct{ s *Service }

func (g refresh) Check(ctx context.Context, r *grantRequest) (*redemption, error) {
	token := r.Form.Get("refresh_token")
	if token == "" {
		return nil, errMissingParam("refresh_token")
	}
	d, err := delegatedFrom(r.TokenRequest)
	if err != nil && r.Form.Get("scope") != "" {
		return nil, err
	}
	rec, err := g.s.readRefreshToken(ctx, token, r.clientID)
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
	red := g.s.userRedemption(r, d, userSession{user: user, amr: rec.AMR, authTime: rec.AuthTime, offline: true})
	// Refresh tokens rotate: each works once.
	red.spend = func(ctx context.Context, tx store.Tx) (*Error, error) {
		err := tx.Delete(kindRefreshToken, refreshKey(token))
		if errors.Is(err, store.ErrNotFound) {
			return nil, errRefreshInvalid() // redeemed meanwhile
		}
		return nil, err
	}
	return red, nil
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

// checkSignIn readies the tokens of a completed page sign-in: the user's
// tenant, the scopes asked for at the start unless the redeeming request
// names its own, and refresh and ID tokens.
func (s *Service) checkSignIn(ctx context.Context, r *grantRequest, si signedIn) (*redemption, error) {
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
	return s.userRedemption(r, d, userSession{user: user, amr: si.amr, authTime: si.authTime, offline: true, openid: true, nonce: si.nonce}), nil
}
