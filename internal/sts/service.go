package sts

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

// Version is the token endpoint's protocol version.
type Version int

// Endpoint versions.
const (
	V1 Version = 1
	V2 Version = 2
)

// TokenRequest is a parsed token-endpoint call.
type TokenRequest struct {
	Tenant    string // path segment: GUID, domain, common or organizations
	Version   Version
	Form      url.Values
	BasicID   string // from HTTP Basic, when used
	BasicPass string
	Issuers   origin.Issuers
	// LoginBases are the scheme://host values the caller can reach this
	// login face on; a client assertion's aud must name one of them.
	LoginBases []string
}

// TokenResponse is what a grant yields; faces render it per version.
type TokenResponse struct {
	Version      Version
	TokenType    string
	AccessToken  string
	ExpiresIn    int64
	ExtExpiresIn int64
	ExpiresOn    int64
	NotBefore    int64
	Resource     string // v1 only
	// User flows.
	Scope        string
	RefreshToken string
	IDToken      string
	ClientInfo   string
}

// DirectoryReader is what the token service reads from the directory.
type DirectoryReader interface {
	Application(ctx context.Context, appID string) (directory.Application, error)
	UserByUPN(ctx context.Context, upn string) (directory.User, error)
	User(ctx context.Context, tenantID, idOrUPN string) (directory.User, error)
	TransitiveGroups(ctx context.Context, tenantID, objectID string) ([]string, error)
	// AssignedRoleValues: the app roles a user and its groups hold on a
	// resource, for the roles claim.
	AssignedRoleValues(ctx context.Context, tenantID string, resource directory.Resource, principalIDs []string) ([]string, error)
	// CachedTenant may answer from memory: tenants change rarely.
	CachedTenant(ctx context.Context, idOrDomain string) (directory.Tenant, error)
	// ClientAndResource reads the client from the store (its credentials
	// may have just changed); the resource may come from memory.
	ClientAndResource(ctx context.Context, tenantID, clientID, resource string) (directory.Lookup, error)
	// Account state: smart lockout and conditional access (signin.go).
	UserLockout(ctx context.Context, tenantID, userID string) (directory.Lockout, error)
	UpdateLockout(ctx context.Context, tenantID, userID string, fn func(*directory.Lockout)) (directory.Lockout, error)
	ClearLockout(ctx context.Context, tenantID, userID string) error
	PolicyBlocking(ctx context.Context, tenantID, userID, control string) (*directory.Policy, error)
	// Delegated consent (consent.go): what a client may do for a user on
	// a resource, and a person's answer to the consent prompt.
	DelegatedConsent(ctx context.Context, tenantID string, client directory.Client, resource directory.Resource, userID string) (directory.Consent, error)
	GrantConsent(ctx context.Context, tenantID, clientAppID, resourceAppID, userID string, scopes []string, everyone bool) error
	IsAdministrator(ctx context.Context, tenantID, objectID string) (bool, error)
}

// Grant is one grant_type. Check reads and validates what the request
// redeems without changing anything; Token then authenticates the client,
// resolves the resource, spends and issues, the same for every grant.
type Grant interface {
	Check(ctx context.Context, r *grantRequest) (*redemption, error)
}

// redemption is a checked grant waiting for its client's authentication.
type redemption struct {
	// resource is what the token is for, as asked; "" when nothing will
	// be issued yet (a device still pending).
	resource string
	// public lets a public client redeem it without a credential (user
	// flows); app-only grants need one.
	public bool
	// spend consumes what the grant redeems, in the request's last
	// transaction beside the client assertion's jti, once the client is
	// authenticated. A refusal it returns is still committed (a code that
	// met a wrong verifier, a device's poll time); err rolls all back.
	spend func(ctx context.Context, tx store.Tx) (refusal *Error, err error)
	// prepare, when set, refuses the request for the authenticated client
	// before anything is spent (a user flow without consent).
	prepare func(ctx context.Context, c authedClient) error
	// issue mints the tokens for the authenticated client.
	issue func(ctx context.Context, c authedClient) (*TokenResponse, error)
}

// authedClient is the authenticated client and the resource it asked for.
type authedClient struct {
	directory.Lookup
	clientAuth
}

// Service is the token pipeline: parse once, resolve the tenant, check the
// grant keyed by its literal grant_type, authenticate the client, resolve
// the resource, spend, issue.
type Service struct {
	dir    DirectoryReader
	keys   *Keys
	st     store.Store
	aksid  clock.Clock // credential validity
	wall   clock.Clock // token iat/nbf/exp, the clients' frame
	rand   io.Reader
	grants map[string]Grant
	fed    *federation
	issued func(grant, tenant string)
}

// Options configure the service.
type Options struct {
	Directory DirectoryReader
	Keys      *Keys
	Store     store.Store // assertion replay records
	Clock     clock.Clock // aksid's clock
	Wall      clock.Clock // the clients' clock
	Random    io.Reader
	// Fetcher reads outside issuers' discovery documents and keys for
	// federated credentials; without it federated assertions fail.
	Fetcher IssuerFetcher
	// Issued, when set, hears of every token issued: its grant type and
	// the tenant the request named (for metrics).
	Issued func(grant, tenant string)
}

// NewService builds the token service with its grants.
func NewService(o Options) *Service {
	s := &Service{dir: o.Directory, keys: o.Keys, st: o.Store, aksid: o.Clock, wall: o.Wall, rand: o.Random,
		fed: &federation{fetch: o.Fetcher, keys: map[string]issuerKeys{}}, issued: o.Issued}
	s.grants = map[string]Grant{
		"client_credentials": clientCredentials{s},
		"password":           password{s},
		"refresh_token":      refresh{s},
		"authorization_code": authorizationCode{s},
		// MSAL Go sends the short name, MSAL Python and the RFC the URN.
		"device_code": deviceCodeGrant{s},
		"urn:ietf:params:oauth:grant-type:device_code": deviceCodeGrant{s},
	}
	return s
}

// grantRequest is a request after tenant resolution and parsing.
type grantRequest struct {
	*TokenRequest
	tenant   directory.Tenant
	clientID string
	resource string // the resource as asked for (v1 resource, v2 scope without /.default)

	cnf *confirmation // the key a PoP token is bound to; nil for bearer
}

// Token answers a token request. Nothing is spent before the client is
// authenticated and the request found good, so a refused request leaves
// the refresh token, code or device code for the right one.
func (s *Service) Token(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	f := req.Form
	grantType := f.Get("grant_type")
	if grantType == "" {
		return nil, errMissingParam("grant_type")
	}
	g, ok := s.grants[grantType]
	if !ok {
		return nil, errUnsupportedGrant(grantType)
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		clientID = req.BasicID
	}
	if clientID == "" {
		return nil, errMissingParam("client_id")
	}
	id, err := uuid.Parse(clientID)
	if err != nil || id == uuid.Nil || len(clientID) != 36 {
		return nil, errInvalidAppID(clientID)
	}
	// A malformed PoP request is refused before any grant runs.
	cnf, err := popFrom(f)
	if err != nil {
		return nil, err
	}
	gr := &grantRequest{TokenRequest: req, clientID: id.String(), cnf: cnf}
	if gr.tenant, err = s.requestTenant(ctx, gr, grantType); err != nil {
		return nil, err
	}
	red, err := g.Check(ctx, gr)
	if err != nil {
		return nil, err
	}
	c, err := s.authenticateClient(ctx, gr, red)
	if err != nil {
		return nil, err
	}
	if red.prepare != nil {
		if err := red.prepare(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := s.spend(ctx, red); err != nil {
		return nil, err
	}
	resp, err := red.issue(ctx, c)
	if err == nil && s.issued != nil {
		tenant := gr.tenant.ID
		if tenant == "" {
			tenant = strings.ToLower(gr.Tenant)
		}
		s.issued(grantType, tenant)
	}
	return resp, err
}

// requestTenant resolves the path's tenant. User flows at common,
// organizations or az's /adfs leave it to the grant (the user's tenant);
// app-only grants need one.
func (s *Service) requestTenant(ctx context.Context, r *grantRequest, grantType string) (directory.Tenant, error) {
	userFlow := grantType != "client_credentials"
	switch strings.ToLower(r.Tenant) {
	case "common", "organizations", "consumers":
		if userFlow {
			return directory.Tenant{}, nil
		}
		// App-only grants need a tenant; Entra will not guess one.
		return directory.Tenant{}, errNoTenantInfo()
	case "adfs":
		if userFlow {
			return directory.Tenant{}, nil
		}
		// az's custom-cloud authority (…/adfs) names no tenant: the
		// client's home tenant is the one it signs in to.
		return s.homeTenant(ctx, r.clientID, "adfs")
	}
	return s.resolveTenant(ctx, r.Tenant)
}

// homeTenant is the tenant a client application is registered in.
func (s *Service) homeTenant(ctx context.Context, clientID, asked string) (directory.Tenant, error) {
	app, err := s.dir.Application(ctx, clientID)
	if errors.Is(err, directory.ErrApplicationNotFound) {
		return directory.Tenant{}, errClientNotFound(clientID, asked)
	} else if err != nil {
		return directory.Tenant{}, err
	}
	return s.resolveTenant(ctx, app.TenantID)
}

// authenticateClient is every grant's client check: the client and the
// resource looked up, the client's credential (or, for a public client
// in a user flow, its absence), then the resource.
func (s *Service) authenticateClient(ctx context.Context, r *grantRequest, red *redemption) (authedClient, error) {
	var c authedClient
	tenant := r.tenant
	if tenant.ID == "" {
		// A device still pending at common or organizations: no user
		// yet, so the client answers in its home tenant.
		var err error
		if tenant, err = s.homeTenant(ctx, r.clientID, r.Tenant); err != nil {
			return c, err
		}
	}
	resource := ""
	if red.resource != "" {
		resource = lookupName(r.TokenRequest, red.resource)
	}
	look, err := s.dir.ClientAndResource(ctx, tenant.ID, r.clientID, resource)
	if err != nil {
		return c, err
	}
	if notFound(look.ClientErr) {
		return c, errClientNotFound(r.clientID, tenant.DisplayName)
	} else if look.ClientErr != nil {
		return c, look.ClientErr
	}
	c.Lookup = look
	if red.public && look.Client.App.PublicClient {
		if r.Form.Get("client_secret") != "" || r.Form.Get("client_assertion") != "" {
			return c, errPublicClient()
		}
		c.acr = acrPublic
	} else if c.clientAuth, err = s.authenticate(ctx, r, look.Client); err != nil {
		return c, err
	}
	if resource == "" {
		return c, nil
	}
	if notFound(look.ResourceErr) {
		return c, errResourceNotFound(red.resource, r.tenantAsAsked())
	}
	return c, look.ResourceErr
}

func notFound(err error) bool {
	return errors.Is(err, directory.ErrApplicationNotFound) || errors.Is(err, directory.ErrPrincipalNotFound)
}

// tenantAsAsked names the tenant as the request did: the path's GUID or
// domain, or the resolved tenant's GUID when the path named none.
func (r *grantRequest) tenantAsAsked() string {
	switch strings.ToLower(r.Tenant) {
	case "common", "organizations", "consumers", "adfs", "":
		return r.tenant.ID
	}
	return r.Tenant
}

// spend runs the grant's spend (a code, a refresh token, a device code
// redeemed) in one transaction, the request's last step before issuing.
func (s *Service) spend(ctx context.Context, red *redemption) error {
	if red.spend == nil {
		return nil
	}
	var refusal *Error
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		refusal, err = red.spend(ctx, tx) // the store may run this more than once
		return err
	})
	if err != nil {
		return err
	}
	if refusal != nil {
		return refusal
	}
	return nil
}

func (s *Service) resolveTenant(ctx context.Context, segment string) (directory.Tenant, error) {
	t, err := s.dir.CachedTenant(ctx, segment)
	if errors.Is(err, directory.ErrTenantNotFound) {
		return directory.Tenant{}, errTenantNotFound(segment)
	}
	return t, err
}

// ResolveTenant maps a path segment to a tenant for the other endpoints
// (discovery); common and organizations resolve to the zero tenant.
func (s *Service) ResolveTenant(ctx context.Context, segment string) (directory.Tenant, error) {
	switch strings.ToLower(segment) {
	case "common", "organizations", "consumers", "adfs":
		return directory.Tenant{}, nil
	}
	return s.resolveTenant(ctx, segment)
}

// tokenLifetimes in seconds, as Entra issues them to applications.
const (
	appTokenLifetime = 3599
	caeTokenLifetime = 86399
	backdate         = 5 * time.Minute
)

// wantsCAE tells whether the client declared the CP1 capability, which
// azcore always sends for ARM.
func wantsCAE(claims string) bool {
	return strings.Contains(claims, "xms_cc") && strings.Contains(claims, "CP1")
}
