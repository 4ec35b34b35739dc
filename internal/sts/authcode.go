package sts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindAuthCode = "sts_auth_code" // sha256(code) → authCodeRecord
	// authCodeLifetime is how long a code waits for redemption, as Entra's.
	authCodeLifetime = 10 * time.Minute // aksid's clock
)

// AuthorizeRequest is the query of a browser sign-in (…/oauth2[/v2.0]/authorize).
type AuthorizeRequest struct {
	TenantSeg           string
	Version             Version
	ClientID            string
	ResponseType        string
	RedirectURI         string
	ResponseMode        string // query (default), fragment or form_post
	Scope               string
	Resource            string // v1
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	LoginHint           string
	Prompt              string
}

// AuthorizeRequestFrom reads the OAuth parameters from a query or form.
func AuthorizeRequestFrom(tenantSeg string, v Version, q url.Values) AuthorizeRequest {
	return AuthorizeRequest{TenantSeg: tenantSeg, Version: v, ClientID: strings.ToLower(strings.TrimSpace(q.Get("client_id"))),
		ResponseType: q.Get("response_type"), RedirectURI: q.Get("redirect_uri"), ResponseMode: q.Get("response_mode"),
		Scope: q.Get("scope"), Resource: q.Get("resource"), State: q.Get("state"), Nonce: q.Get("nonce"),
		CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"),
		LoginHint: q.Get("login_hint"), Prompt: q.Get("prompt")}
}

// Values is the request as parameters again, for the sign-in form to carry.
func (a AuthorizeRequest) Values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("client_id", a.ClientID)
	set("response_type", a.ResponseType)
	set("redirect_uri", a.RedirectURI)
	set("response_mode", a.ResponseMode)
	set("scope", a.Scope)
	set("resource", a.Resource)
	set("state", a.State)
	set("nonce", a.Nonce)
	set("code_challenge", a.CodeChallenge)
	set("code_challenge_method", a.CodeChallengeMethod)
	set("login_hint", a.LoginHint)
	set("prompt", a.Prompt)
	return v
}

// AuthorizePrompt is what the sign-in page shows, and where answers go.
type AuthorizePrompt struct {
	ClientName string
	// Redirect is set once the redirect URI is known to be allowed: only
	// then may errors be sent back to it rather than shown on the page.
	Redirect     string
	ResponseMode string
}

// authCodeRecord is an issued authorization code; only its hash is kept.
type authCodeRecord struct {
	ClientID    string    `json:"clientId"`
	RedirectURI string    `json:"redirectUri"`
	Scope       string    `json:"scope"`
	Resource    string    `json:"resource,omitempty"`
	Nonce       string    `json:"nonce,omitempty"`
	Challenge   string    `json:"challenge,omitempty"`
	Method      string    `json:"method,omitempty"`
	UserID      string    `json:"userId"`
	TenantID    string    `json:"tenantId"`
	AuthTime    int64     `json:"authTime"`
	AMR         []string  `json:"amr"`
	Expires     time.Time `json:"expires"`
	Redeemed    bool      `json:"redeemed,omitempty"`
}

// CheckAuthorize validates a browser sign-in request before the page is
// shown. An error with a zero prompt.Redirect must be shown on the page,
// never sent to the (unverified) redirect URI.
func (s *Service) CheckAuthorize(ctx context.Context, a AuthorizeRequest) (AuthorizePrompt, error) {
	var p AuthorizePrompt
	if a.ClientID == "" {
		return p, errMissingParam("client_id")
	}
	if _, err := s.ResolveTenant(ctx, a.TenantSeg); err != nil {
		return p, err
	}
	app, err := s.dir.Application(ctx, a.ClientID)
	if errors.Is(err, directory.ErrApplicationNotFound) {
		return p, errClientNotFound(a.ClientID, a.TenantSeg)
	} else if err != nil {
		return p, err
	}
	p.ClientName = app.DisplayName
	if a.RedirectURI == "" {
		return p, errMissingParam("redirect_uri")
	}
	if !redirectAllowed(app, a.RedirectURI) {
		return p, errRedirectMismatch(a.RedirectURI, app.AppID)
	}
	p.Redirect = a.RedirectURI
	switch a.ResponseMode {
	case "", "query", "form_post", "fragment":
		p.ResponseMode = a.ResponseMode
		if p.ResponseMode == "" {
			p.ResponseMode = "query"
		}
	default:
		p.ResponseMode = "query"
		return p, errResponseMode(a.ResponseMode)
	}
	if a.ResponseType != "code" {
		return p, errResponseType(a.ResponseType)
	}
	if a.Version == V2 && strings.TrimSpace(a.Scope) == "" {
		return p, errMissingParam("scope")
	}
	switch a.CodeChallengeMethod {
	case "":
		if a.CodeChallenge != "" {
			break // plain, as RFC 7636 defaults
		}
	case "S256", "plain":
		if a.CodeChallenge == "" {
			return p, errMissingParam("code_challenge")
		}
	default:
		return p, errChallengeMethod(a.CodeChallengeMethod)
	}
	if a.Prompt == "none" {
		// aksid keeps no browser session: there is nobody to sign in silently.
		return p, errInteractionRequired()
	}
	return p, nil
}

// redirectAllowed applies Entra's rules: a registered URI matches exactly;
// loopback URIs (http://localhost, 127.0.0.1, [::1]) match on any port;
// public clients without registered URIs, like Microsoft's own, may use any
// loopback address.
func redirectAllowed(app directory.Application, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Fragment != "" || u.User != nil {
		return false
	}
	registered := registeredRedirects(app)
	loopback := u.Scheme == "http" && isLoopbackHost(u.Hostname())
	if loopback && app.PublicClient && len(registered) == 0 {
		return true
	}
	for _, r := range registered {
		if r == uri {
			return true
		}
		ru, err := url.Parse(r)
		if err == nil && loopback && ru.Scheme == "http" && isLoopbackHost(ru.Hostname()) &&
			strings.EqualFold(ru.Hostname(), u.Hostname()) && strings.TrimSuffix(ru.Path, "/") == strings.TrimSuffix(u.Path, "/") {
			return true
		}
	}
	return false
}

// isLoopbackHost is Entra's rule for loopback redirect URIs: the names
// localhost, 127.0.0.1 and ::1 only.
func isLoopbackHost(h string) bool {
	return strings.EqualFold(h, "localhost") || h == "127.0.0.1" || h == "::1"
}

// registeredRedirects reads Graph's publicClient, web and spa redirectUris.
func registeredRedirects(app directory.Application) []string {
	var out []string
	for _, key := range []string{"publicClient", "web", "spa"} {
		raw, ok := app.Extra[key]
		if !ok {
			continue
		}
		var v struct {
			RedirectURIs []string `json:"redirectUris"`
		}
		if json.Unmarshal(raw, &v) == nil {
			out = append(out, v.RedirectURIs...)
		}
	}
	return out
}

// Authorize signs the person in with name and password and issues the
// authorization code to hand to the redirect URI.
func (s *Service) Authorize(ctx context.Context, a AuthorizeRequest, username, password string) (string, error) {
	if _, err := s.CheckAuthorize(ctx, a); err != nil {
		return "", err
	}
	user, err := s.signInUser(ctx, a.TenantSeg, username, password)
	if err != nil {
		return "", err
	}
	if user.RequireMFA {
		return "", s.startSecondFactor(ctx, a.ClientID, user)
	}
	return s.codeOrConsent(ctx, a, user, []string{"pwd"})
}

// issueAuthCode stores (the hash of) an authorization code for a user
// who signed in with the methods amr names.
func (s *Service) issueAuthCode(ctx context.Context, a AuthorizeRequest, user directory.User, amr []string) (string, error) {
	method := a.CodeChallengeMethod
	if method == "" && a.CodeChallenge != "" {
		method = "plain"
	}
	code := "1.A" + s.opaque(96)
	rec := authCodeRecord{ClientID: a.ClientID, RedirectURI: a.RedirectURI, Scope: a.Scope, Resource: a.Resource, Nonce: a.Nonce,
		Challenge: a.CodeChallenge, Method: method, UserID: user.ObjectID, TenantID: user.TenantID,
		AuthTime: s.wall.Now().Unix(), AMR: amr, Expires: s.aksid.Now().Add(authCodeLifetime)}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.CreateJSON(tx, kindAuthCode, refreshKey(code), rec)
	})
	return code, err
}

// authorizationCode redeems a code (once) with the PKCE verifier.
type authorizationCode struct{ s *Service }

func (g authorizationCode) Check(ctx context.Context, r *grantRequest) (*redemption, error) {
	code := r.Form.Get("code")
	if code == "" {
		return nil, errMissingParam("code")
	}
	if r.Form.Get("redirect_uri") == "" {
		return nil, errMissingParam("redirect_uri")
	}
	var rec authCodeRecord
	key := refreshKey(code)
	err := g.s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindAuthCode, key, &rec)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadAuthCode()
	case err != nil:
		return nil, err
	case !strings.EqualFold(rec.ClientID, r.clientID):
		return nil, errBadAuthCode()
	case rec.Redeemed:
		return nil, errAuthCodeRedeemed()
	case g.s.aksid.Now().After(rec.Expires):
		return nil, errAuthCodeExpired()
	}
	// The rightful client's wrong redirect or verifier spends the code
	// anyway, so it cannot be tried again; another's request spends nothing.
	var refusal *Error
	switch {
	case r.Form.Get("redirect_uri") != rec.RedirectURI:
		refusal = errRedirectChanged()
	case !verifierMatches(rec.Challenge, rec.Method, r.Form.Get("code_verifier")):
		refusal = errVerifierMismatch()
	}
	red := &redemption{public: true}
	if refusal == nil {
		if red, err = g.s.checkSignIn(ctx, r, signedIn{tenantID: rec.TenantID, userID: rec.UserID, scope: rec.Scope, resource: rec.Resource,
			amr: rec.AMR, authTime: rec.AuthTime, nonce: rec.Nonce}); err != nil {
			return nil, err
		}
	} else if r.tenant.ID == "" {
		// Not issuing: still, the client answers in the code's tenant.
		if r.tenant, err = g.s.resolveTenant(ctx, rec.TenantID); err != nil {
			return nil, err
		}
	}
	red.spend = func(ctx context.Context, tx store.Tx) (*Error, error) {
		var cur authCodeRecord
		if err := store.GetJSON(tx, kindAuthCode, key, &cur); err != nil {
			return nil, err
		}
		if cur.Redeemed {
			return nil, errAuthCodeRedeemed() // redeemed meanwhile
		}
		cur.Redeemed = true
		return refusal, store.PutJSON(tx, kindAuthCode, key, cur)
	}
	return red, nil
}

// verifierMatches checks the PKCE verifier (RFC 7636) in constant time; a
// code issued without a challenge needs no verifier.
func verifierMatches(challenge, method, verifier string) bool {
	if challenge == "" {
		return true
	}
	if verifier == "" {
		return false
	}
	got := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		got = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}
