package sts

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// IssuerFetcher reads one document of an outside issuer (its discovery
// document or its JWKS) by https URL. The app supplies it, so this package
// stays free of HTTP; it decides which hosts may be reached.
type IssuerFetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// Federated assertions may use any of the algorithms OIDC issuers sign
// with (Kubernetes signs service-account tokens RS256 or ES256).
var federatedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512}

const (
	// jwksTTL is how long an issuer's keys are trusted without asking
	// again, on aksid's clock.
	jwksTTL = 10 * time.Minute
	// jwksRefetchGap bounds how often an unknown kid makes us ask again,
	// so a stream of forged kids cannot turn aksid into a request loop.
	jwksRefetchGap = 10 * time.Second
)

type issuerKeys struct {
	set     jose.JSONWebKeySet
	fetched time.Time
}

// federation caches outside issuers' keys.
type federation struct {
	fetch IssuerFetcher
	mu    sync.Mutex
	keys  map[string]issuerKeys // issuer → keys
}

// isFederated tells a federated assertion from a certificate one: the
// latter names the client itself as issuer, the former an https issuer.
func isFederated(assertion, clientID string) bool {
	tok, err := jwt.ParseSigned(assertion, federatedAlgs)
	if err != nil {
		return false
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil || strings.EqualFold(c.Issuer, clientID) {
		return false
	}
	u, err := url.Parse(c.Issuer)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// checkFederated verifies an assertion issued by an outside issuer that
// one of the client's federated credentials trusts: the credential that
// matches iss, sub and aud, then the issuer's published key, then the
// time window. Federated tokens may be presented again within their
// lifetime (az replays one per resource), so no jti is recorded.
func (s *Service) checkFederated(ctx context.Context, app directory.Application, assertion string) error {
	tok, err := jwt.ParseSigned(assertion, federatedAlgs)
	if err != nil {
		return errMalformedJWT("the client assertion is not a signed JWT")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return errMalformedJWT("the client assertion's claims cannot be read")
	}
	if err := matchFederated(app.FederatedCredentials, unverified); err != nil {
		return err
	}
	if s.fed == nil || s.fed.fetch == nil {
		return errExternalOIDC()
	}
	kid := tok.Headers[0].KeyID
	// The cache's age is on aksid's clock: the issuers it serves publish
	// and retire keys on it (az aks oidc-issuer rotate-signing-keys keeps
	// the old key 24 h of it), so after `aksid clock advance` their keys
	// are fetched anew, not 10 minutes of wall time later.
	key, err := s.fed.key(ctx, unverified.Issuer, kid, s.aksid.Now())
	if err != nil {
		return err
	}
	var claims jwt.Claims
	if err := tok.Claims(key.Key, &claims); err != nil {
		return errFederatedSignature("Key was found, but use of the key to verify the signature failed.", kid)
	}
	if claims.Expiry == nil {
		return errMalformedJWT("the client assertion has no 'exp' claim")
	}
	wall := s.wall.Now()
	exp := claims.Expiry.Time()
	nbf := time.Unix(0, 0).UTC()
	if claims.NotBefore != nil {
		nbf = claims.NotBefore.Time()
	} else if claims.IssuedAt != nil {
		nbf = claims.IssuedAt.Time()
	}
	issuedLate := claims.IssuedAt != nil && claims.IssuedAt.Time().After(wall.Add(assertionSkew))
	if wall.After(exp.Add(assertionSkew)) || wall.Before(nbf.Add(-assertionSkew)) || issuedLate {
		const f = "2006-01-02T15:04:05.0000000Z"
		return errAssertionTime(wall.UTC().Format(f), nbf.UTC().Format(f), exp.UTC().Format(f))
	}
	return nil
}

// matchFederated finds the credential trusting the token, answering as
// Entra does which of issuer, subject or audience matched none. Issuer
// and subject compare case-sensitively, as Entra does since 2025.
func matchFederated(fics []directory.FederatedCredential, c jwt.Claims) error {
	aud := strings.Join(c.Audience, ",")
	if len(fics) == 0 {
		return errNoFederatedRecord(c.Issuer, c.Subject, aud)
	}
	var byIssuer, bySubject []directory.FederatedCredential
	for _, f := range fics {
		if f.Issuer == c.Issuer {
			byIssuer = append(byIssuer, f)
		}
	}
	if len(byIssuer) == 0 {
		return errFederatedIssuer(c.Issuer)
	}
	for _, f := range byIssuer {
		if f.Subject == c.Subject {
			bySubject = append(bySubject, f)
		}
	}
	if len(bySubject) == 0 {
		return errFederatedSubject(c.Subject)
	}
	for _, f := range bySubject {
		for _, a := range f.Audiences {
			if slices.Contains(c.Audience, a) {
				return nil
			}
		}
	}
	return errFederatedAudience(aud)
}

// key returns the issuer's signing key kid (the only key when the token
// names none), fetching the issuer's documents when they are not cached,
// stale, or lack kid.
func (f *federation) key(ctx context.Context, issuer, kid string, now time.Time) (jose.JSONWebKey, error) {
	f.mu.Lock()
	cached, ok := f.keys[issuer]
	f.mu.Unlock()
	age := now.Sub(cached.fetched)
	if ok && age >= 0 && age < jwksTTL { // a clock set back makes it stale too
		if k, found := pick(cached.set, kid); found {
			return k, nil
		}
		if age < jwksRefetchGap {
			return jose.JSONWebKey{}, errFederatedSignature("The key was not found.", kid)
		}
	}
	set, err := f.load(ctx, issuer)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	f.mu.Lock()
	f.keys[issuer] = issuerKeys{set: set, fetched: now}
	f.mu.Unlock()
	if k, found := pick(set, kid); found {
		return k, nil
	}
	return jose.JSONWebKey{}, errFederatedSignature("The key was not found.", kid)
}

func pick(set jose.JSONWebKeySet, kid string) (jose.JSONWebKey, bool) {
	var usable []jose.JSONWebKey
	for _, k := range set.Keys {
		if (k.Use == "" || k.Use == "sig") && k.Valid() && k.IsPublic() {
			usable = append(usable, k)
		}
	}
	if kid == "" {
		if len(usable) == 1 {
			return usable[0], true
		}
		return jose.JSONWebKey{}, false
	}
	for _, k := range usable {
		if k.KeyID == kid {
			return k, true
		}
	}
	return jose.JSONWebKey{}, false
}

// load reads the issuer's discovery document, checks that it speaks for
// issuer, and reads the key set it points to.
func (f *federation) load(ctx context.Context, issuer string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	raw, err := f.fetch.Fetch(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return set, errExternalOIDC()
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if json.Unmarshal(raw, &doc) != nil || doc.Issuer != issuer {
		return set, errExternalOIDC()
	}
	if u, err := url.Parse(doc.JWKSURI); err != nil || u.Scheme != "https" || u.Host == "" {
		return set, errExternalOIDC()
	}
	raw, err = f.fetch.Fetch(ctx, doc.JWKSURI)
	if err != nil || json.Unmarshal(raw, &set) != nil {
		return jose.JSONWebKeySet{}, errExternalOIDC()
	}
	return set, nil
}
