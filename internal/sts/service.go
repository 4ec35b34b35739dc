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
}

// Grant runs one grant_type on an authenticated request.
type Grant interface {
	Issue(ctx context.Context, r *grantRequest) (*TokenResponse, error)
}

// Service is the token pipeline: parse once, resolve the tenant,
// authenticate the client, run the grant keyed by its literal grant_type.
type Service struct {
	dir    DirectoryReader
	keys   *Keys
	st     store.Store
	aksid  clock.Clock // credential validity
	wall   clock.Clock // token iat/nbf/exp, the clients' frame
	rand   io.Reader
	grants map[string]Grant
	fed    *federation
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
}

// NewService builds the token service with its grants.
func NewService(o Options) *Service {
	s := &Service{dir: o.Directory, keys: o.Keys, st: o.Store, aksid: o.Clock, wall: o.Wall, rand: o.Random,
		fed: &federation{fetch: o.Fetcher, keys: map[string]issuerKeys{}}}
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

// Token answers a token request.
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
	// A malformed PoP request is refused before any grant runs, so no
	// code or refresh token is spent on it.
	cnf, err := popFrom(f)
	if err != nil {
		return nil, err
	}
	var tenant directory.Tenant
	userFlow := grantType != "client_credentials"
	switch strings.ToLower(req.Tenant) {
	case "common", "organizations", "consumers":
		if userFlow {
			break // the user's (or refresh token's) tenant
		}
		// App-only grants need a tenant; Entra will not guess one.
		return nil, errNoTenantInfo()
	case "adfs":
		if userFlow {
			break
		}
		// az's custom-cloud authority (…/adfs) names no tenant: the
		// client's home tenant is the one it signs in to.
		app, err := s.dir.Application(ctx, id.String())
		if errors.Is(err, directory.ErrApplicationNotFound) {
			return nil, errClientNotFound(id.String(), "adfs")
		} else if err != nil {
			return nil, err
		}
		if tenant, err = s.resolveTenant(ctx, app.TenantID); err != nil {
			return nil, err
		}
	default:
		if tenant, err = s.resolveTenant(ctx, req.Tenant); err != nil {
			return nil, err
		}
	}
	gr := &grantRequest{TokenRequest: req, tenant: tenant, clientID: id.String(), cnf: cnf}
	return g.Issue(ctx, gr)
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
