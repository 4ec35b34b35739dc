// Package authn validates the access tokens aksid issued and tells who presents them.
package authn

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Errors a face maps to its own 401 body.
var (
	ErrNoToken = errors.New("authn: no bearer token")
	ErrInvalid = errors.New("authn: invalid token")
	ErrExpired = errors.New("authn: token expired")
	// ErrAudience wraps ErrInvalid for a token meant for another resource.
	ErrAudience = fmt.Errorf("%w: audience", ErrInvalid)
)

// Principal is the caller a token names.
type Principal struct {
	ObjectID string // oid
	TenantID string // tid
	AppID    string // appid (v1) or azp (v2)
	Type     string // "app" or "user"
	UPN      string
	Audience string
	Issuer   string
	Scopes   string   // scp (delegated)
	Roles    []string // app roles
}

// KeySource finds a published verification key, refreshing from the
// store when a replica rotated to a key this process has not seen.
type KeySource interface {
	VerifyKey(ctx context.Context, kid string) (*rsa.PublicKey, bool)
}

// Accept says which tokens a face takes.
type Accept struct {
	// Audiences the face answers to (compared case-insensitively, trailing
	// slash ignored, as Azure does).
	Audiences []string
	// IssuerBases are the scheme://host values a valid issuer sits on; the
	// issuer must be base/{tid}/ or base/{tid}/v2.0 for the token's tid.
	IssuerBases []string
}

// Validator checks signature, algorithm, issuer, audience and lifetime.
type Validator struct {
	keys KeySource
	wall clock.Clock // tokens live in the clients' frame
}

// New returns a validator over keys; lifetimes are checked on wall time.
func New(keys KeySource, wall clock.Clock) *Validator {
	return &Validator{keys: keys, wall: wall}
}

const leeway = 5 * time.Minute

type claims struct {
	jwt.Claims
	Tid   string   `json:"tid"`
	Oid   string   `json:"oid"`
	AppID string   `json:"appid"`
	Azp   string   `json:"azp"`
	Idtyp string   `json:"idtyp"`
	UPN   string   `json:"upn"`
	Scp   string   `json:"scp"`
	Roles []string `json:"roles"`
}

// FromHeader validates the bearer token of an Authorization header value.
func (v *Validator) FromHeader(ctx context.Context, header string, a Accept) (Principal, error) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return Principal{}, ErrNoToken
	}
	return v.Validate(ctx, strings.TrimSpace(tok), a)
}

// Validate checks tok fully and returns its principal.
func (v *Validator) Validate(ctx context.Context, tok string, a Accept) (Principal, error) {
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(parsed.Headers) != 1 {
		return Principal{}, fmt.Errorf("%w: not an RS256 JWT", ErrInvalid)
	}
	pub, ok := v.keys.VerifyKey(ctx, parsed.Headers[0].KeyID)
	if !ok {
		return Principal{}, fmt.Errorf("%w: signing key not found", ErrInvalid)
	}
	var c claims
	if err := parsed.Claims(pub, &c); err != nil {
		return Principal{}, fmt.Errorf("%w: signature", ErrInvalid)
	}
	if c.Expiry == nil || c.Tid == "" || c.Oid == "" {
		return Principal{}, fmt.Errorf("%w: missing claims", ErrInvalid)
	}
	if err := c.Claims.ValidateWithLeeway(jwt.Expected{Time: v.wall.Now()}, leeway); err != nil {
		if errors.Is(err, jwt.ErrExpired) {
			return Principal{}, ErrExpired
		}
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !issuerOK(c.Issuer, c.Tid, a.IssuerBases) {
		return Principal{}, fmt.Errorf("%w: issuer", ErrInvalid)
	}
	aud := ""
	for _, got := range c.Audience {
		for _, want := range a.Audiences {
			if strings.EqualFold(strings.TrimRight(got, "/"), strings.TrimRight(want, "/")) {
				aud = got
			}
		}
	}
	if aud == "" {
		return Principal{}, ErrAudience
	}
	p := Principal{ObjectID: c.Oid, TenantID: c.Tid, AppID: c.AppID, Type: c.Idtyp, UPN: c.UPN,
		Audience: aud, Issuer: c.Issuer, Scopes: c.Scp, Roles: c.Roles}
	if p.AppID == "" {
		p.AppID = c.Azp
	}
	if p.Type == "" {
		p.Type = "user"
	}
	return p, nil
}

func issuerOK(iss, tid string, bases []string) bool {
	for _, b := range bases {
		if iss == b+"/"+tid+"/" || iss == b+"/"+tid+"/v2.0" {
			return true
		}
	}
	return false
}
