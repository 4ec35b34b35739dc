package sts

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
)

// Delegated consent: a client acts for a user on a resource only with
// consent, as Entra requires. Microsoft's own pairs and an application's
// own API need none; otherwise a grant (for everyone or for the user) or
// the resource's preauthorization must cover what is asked. Token
// requests without it get AADSTS65001; sign-in pages ask the person.

const kindConsentFlow = "sts_consent_flow" // sha256(flow token) → pageFlow

// implicitScp is the scp of a token no grant governs: Microsoft's own
// pairs (az to ARM, AKS's client to its server) carry it.
const implicitScp = "user_impersonation"

// requestedValues are the permission values a user flow's scopes name on
// their resource; ".default" and v1's resource name none.
func requestedValues(scopes string) []string {
	var out []string
	for _, sc := range strings.Fields(scopes) {
		v := sc[strings.LastIndex(sc, "/")+1:]
		if v != "" && !strings.EqualFold(v, ".default") {
			out = append(out, v)
		}
	}
	return out
}

// scopeClaim is a user token's scp: the scopes consented to for the client
// on the resource, or AADSTS65001 when what is asked is not consented.
func (s *Service) scopeClaim(ctx context.Context, tenantID string, us userSession) (string, error) {
	c, err := s.dir.DelegatedConsent(ctx, tenantID, us.client, us.resource, us.user.ObjectID)
	if err != nil {
		return "", err
	}
	asked := requestedValues(us.scope)
	switch {
	case c.Implicit && len(c.Scopes) == 0:
		return implicitScp, nil
	case c.Implicit && len(asked) > 0:
		return strings.Join(asked, " "), nil
	case len(c.Scopes) > 0 && c.Allows(asked):
		return strings.Join(c.Scopes, " "), nil
	}
	return "", errConsentRequired(us.client.App.AppID, us.client.App.DisplayName)
}

// ConsentRequired is a page sign-in's answer when the person must first
// consent: the page lists Permissions and passes Flow back with the
// answer. Everyone is offered to administrators, who may consent for the
// whole organization.
type ConsentRequired struct {
	Flow        string
	Client      string
	Resource    string
	Permissions []directory.PermissionScope
	Everyone    bool

	tenantID, clientAppID, resourceAppID string
}

func (e *ConsentRequired) Error() string { return "sts: consent required" }

// signInAsk is what a page sign-in asks for: the client, its scopes (or
// v1's resource), and whether the prompt must show even where consent
// was given (prompt=consent).
type signInAsk struct {
	v                         Version
	clientID, scope, resource string
	force                     bool
}

func browserAsk(a AuthorizeRequest) signInAsk {
	return signInAsk{v: a.Version, clientID: a.ClientID, scope: a.Scope, resource: a.Resource, force: a.Prompt == "consent"}
}

// deviceAsk is a device sign-in's; a device cannot ask for the prompt.
func deviceAsk(rec deviceRecord) signInAsk {
	v := V2
	if rec.Resource != "" {
		v = V1 // v1 names a resource
	}
	return signInAsk{v: v, clientID: rec.ClientID, scope: rec.Scope, resource: rec.Resource}
}

// pageConsent checks a page sign-in's consent: nil when the client may
// act for user on what it asked (or when the token endpoint will refuse
// the request for another reason and say why), the prompt otherwise, or
// an AADSTS refusal when the person cannot consent.
func (s *Service) pageConsent(ctx context.Context, ask signInAsk, user directory.User) (*ConsentRequired, error) {
	req := &TokenRequest{Version: ask.v, Form: url.Values{}}
	if ask.scope != "" {
		req.Form.Set("scope", ask.scope)
	}
	if ask.resource != "" {
		req.Form.Set("resource", ask.resource)
	}
	d, err := delegatedFrom(req)
	if err != nil {
		return nil, nil
	}
	look, err := s.dir.ClientAndResource(ctx, user.TenantID, strings.ToLower(ask.clientID), lookupName(req, d.resource))
	if err != nil || look.ResourceErr != nil {
		return nil, err
	}
	// A client without a principal in the user's tenant is what consent
	// installs there, as Entra's prompt does.
	if look.ClientErr != nil && !errors.Is(look.ClientErr, directory.ErrPrincipalNotFound) {
		return nil, nil
	}
	c, err := s.dir.DelegatedConsent(ctx, user.TenantID, look.Client, look.Resource, user.ObjectID)
	if err != nil {
		return nil, err
	}
	asked := requestedValues(d.echo)
	consented := len(c.Scopes) > 0 && c.Allows(asked)
	if c.Implicit || (consented && !ask.force) {
		return nil, nil
	}
	client, res := look.Client.App, look.Resource.App
	perms, err := directory.RequestedPermissions(client, res, asked)
	var unknown *directory.UnknownScopeError
	switch {
	case errors.As(err, &unknown):
		return nil, errScopeNotExposed(client.DisplayName, unknown.Value, res.AppID)
	case len(perms) == 0 && consented:
		return nil, nil // prompt=consent with nothing the registration asks
	case len(perms) == 0:
		return nil, errResourceNotRequested(client.AppID, client.DisplayName, d.resource, res.AppID)
	}
	admin, err := s.dir.IsAdministrator(ctx, user.TenantID, user.ObjectID)
	if err != nil {
		return nil, err
	}
	for _, p := range perms {
		if p.Type == "Admin" && !admin && !c.Allows([]string{p.Value}) {
			return nil, errNeedsAdmin()
		}
	}
	return &ConsentRequired{Client: client.DisplayName, Resource: res.DisplayName, Permissions: perms, Everyone: admin,
		tenantID: user.TenantID, clientAppID: client.AppID, resourceAppID: res.AppID}, nil
}

// grant records the person's consent to the prompt's permissions.
func (s *Service) grant(ctx context.Context, p *ConsentRequired, userID string, everyone bool) error {
	values := make([]string, len(p.Permissions))
	for i, perm := range p.Permissions {
		values[i] = perm.Value
	}
	return s.dir.GrantConsent(ctx, p.tenantID, p.clientAppID, p.resourceAppID, userID, values, everyone && p.Everyone)
}

// codeOrConsent ends a browser sign-in: the authorization code, or the
// consent prompt first.
func (s *Service) codeOrConsent(ctx context.Context, a AuthorizeRequest, user directory.User, amr []string) (string, error) {
	p, err := s.pageConsent(ctx, browserAsk(a), user)
	if err != nil {
		return "", err
	}
	if p == nil {
		return s.issueAuthCode(ctx, a, user, amr)
	}
	p.Flow = s.opaque(32)
	rec := pageFlow{ClientID: strings.ToLower(a.ClientID), UserID: user.ObjectID, TenantID: user.TenantID, AMR: amr,
		Expires: s.aksid.Now().Add(pageFlowLifetime)}
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.CreateJSON(tx, kindConsentFlow, deviceKey(p.Flow), rec)
	})
	if err != nil {
		return "", err
	}
	return "", p
}

// AuthorizeConsent takes the person's answer to the consent prompt of a
// browser sign-in: accepted, the grant is recorded (for everyone when an
// administrator asks) and the code issued; declined, AADSTS65004.
func (s *Service) AuthorizeConsent(ctx context.Context, a AuthorizeRequest, flow string, accept, everyone bool) (string, error) {
	if _, err := s.CheckAuthorize(ctx, a); err != nil {
		return "", err
	}
	var rec pageFlow
	key := deviceKey(flow)
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := store.GetJSON(tx, kindConsentFlow, key, &rec); err != nil {
			return err
		}
		return tx.Delete(kindConsentFlow, key) // once
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.current(rec, a.ClientID)) {
		return "", errSignInExpired()
	} else if err != nil {
		return "", err
	}
	if !accept {
		return "", ErrUserCanceled()
	}
	user, err := s.dir.User(ctx, rec.TenantID, rec.UserID)
	if err != nil {
		return "", errSignInExpired()
	}
	p, err := s.pageConsent(ctx, browserAsk(a), user)
	if err != nil {
		return "", err
	}
	if p != nil {
		if err := s.grant(ctx, p, user.ObjectID, everyone); err != nil {
			return "", err
		}
	}
	return s.issueAuthCode(ctx, a, user, rec.AMR)
}

// approveOrAsk ends a device sign-in the person passed: approved, or the
// consent prompt first (the record keeps how they signed in meanwhile).
func (s *Service) approveOrAsk(ctx context.Context, pd pendingDevice, user directory.User, amr []string) error {
	p, err := s.pageConsent(ctx, deviceAsk(pd.rec), user)
	if err != nil {
		return err
	}
	if p == nil {
		return s.settleDevice(ctx, pd.key, user, deviceApproved, amr, "")
	}
	p.Flow = s.opaque(32)
	if err := s.settleDevice(ctx, pd.key, user, devicePending, amr, deviceKey(p.Flow)); err != nil {
		return err
	}
	return p
}

// ApproveDeviceCodeConsent takes the person's answer to a device
// sign-in's consent prompt: accepted, the grant is recorded and the
// device's sign-in approved; declined, the device is told at its next
// poll.
func (s *Service) ApproveDeviceCodeConsent(ctx context.Context, userCode, flow string, accept, everyone bool) error {
	pd, err := s.deviceByUserCode(ctx, userCode)
	if err != nil {
		return err
	}
	rec := pd.rec
	if !rec.Consent || subtle.ConstantTimeCompare([]byte(deviceKey(flow)), []byte(rec.FlowHash)) != 1 {
		return ErrUnknownUserCode
	}
	user, err := s.dir.User(ctx, rec.TenantID, rec.PendingUser)
	if err != nil {
		return ErrUnknownUserCode
	}
	if !accept {
		return s.settleDevice(ctx, pd.key, user, deviceDeclined, nil, "")
	}
	p, err := s.pageConsent(ctx, deviceAsk(rec), user)
	if err != nil {
		return err
	}
	if p != nil {
		if err := s.grant(ctx, p, user.ObjectID, everyone); err != nil {
			return err
		}
	}
	return s.settleDevice(ctx, pd.key, user, deviceApproved, rec.AMR, "")
}
