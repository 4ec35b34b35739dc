package sts

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	assertionSkew      = 5 * time.Minute
	kindAssertionJTI   = "sts_assertion_jti"
)

// Authentication context class references Entra puts in appidacr/azpacr.
const (
	acrPublic = "0"
	acrSecret = "1"
	acrCert   = "2"
)

var assertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.RS384, jose.PS384, jose.RS512, jose.PS512}

// clientAuth is how a client proved itself: the authentication context
// class for the token.
type clientAuth struct {
	acr string
}

// authenticate checks the client's secret or assertion. It changes
// nothing.
func (s *Service) authenticate(ctx context.Context, r *grantRequest, c directory.Client) (clientAuth, error) {
	if !c.SP.AccountEnabled {
		return clientAuth{}, errDisabled(c.App.AppID)
	}
	secret := r.Form.Get("client_secret")
	if secret == "" && r.BasicID != "" {
		secret = r.BasicPass
	}
	assertion := r.Form.Get("client_assertion")
	switch {
	case secret != "" || assertion != "":
		if c.App.PublicClient {
			return clientAuth{}, errPublicClient()
		}
	default:
		return clientAuth{}, errNoCredential()
	}
	if secret != "" {
		_, err := directory.CheckSecret(c.App, secret, s.aksid.Now())
		switch {
		case errors.Is(err, directory.ErrSecretExpired):
			return clientAuth{}, errExpiredSecret(c.App.AppID)
		case err != nil:
			return clientAuth{}, errBadSecret(c.App.AppID)
		}
		return clientAuth{acr: acrSecret}, nil
	}
	if t := r.Form.Get("client_assertion_type"); t != jwtBearerAssertion {
		return clientAuth{}, errAssertionType(t)
	}
	if isFederated(assertion, c.App.AppID) {
		return clientAuth{acr: acrCert}, s.checkFederated(ctx, c.App, assertion)
	}
	return clientAuth{acr: acrCert}, s.checkAssertion(ctx, r, c.App, assertion)
}

type assertionHeader struct {
	X5t       string   `json:"x5t"`
	X5tS256   string   `json:"x5t#S256"`
	X5c       []string `json:"x5c"`
	Algorithm string   `json:"alg"`
}

// checkAssertion verifies a certificate-signed client assertion: a key
// registered on the app, its signature, iss/sub, aud, time window and a
// jti. The same assertion may come again while it is valid, as Entra
// accepts: MSAL (Python, Node, older Go and Java) signs one and reuses it
// for up to ten minutes, for every scope it asks for.
func (s *Service) checkAssertion(ctx context.Context, r *grantRequest, app directory.Application, assertion string) error {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil {
		return errMalformedJWT("the client assertion is not a signed JWT with an RSA algorithm")
	}
	var hdr assertionHeader
	if seg, _, ok := strings.Cut(assertion, "."); ok {
		if raw, err := base64.RawURLEncoding.DecodeString(seg); err == nil {
			_ = json.Unmarshal(raw, &hdr)
		}
	}
	s1, s256, der := decodeThumb(hdr.X5t), decodeThumb(hdr.X5tS256), firstCert(hdr.X5c)
	shown := strings.ToUpper(hex.EncodeToString(s1))
	if shown == "" && len(s256) > 0 {
		shown = strings.ToUpper(hex.EncodeToString(s256))
	}
	cert, ok := directory.FindCertificate(app, s1, s256, der)
	if !ok {
		return errAssertionKeyNotFound(shown, app.AppID)
	}
	if shown == "" {
		sum := sha1.Sum(cert.Raw)
		shown = strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	now := s.aksid.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return errAssertionKeyExpired(shown)
	}
	var claims jwt.Claims
	if err := tok.Claims(cert.PublicKey, &claims); err != nil {
		return errAssertionSignature(shown)
	}
	if !strings.EqualFold(claims.Issuer, r.clientID) || !strings.EqualFold(claims.Subject, r.clientID) {
		return errAssertionSubject()
	}
	if !s.audienceOK(ctx, r, claims.Audience) {
		return errAssertionAudience()
	}
	wall := s.wall.Now()
	if claims.Expiry == nil {
		return errMalformedJWT("the client assertion has no 'exp' claim")
	}
	exp := claims.Expiry.Time()
	nbf := time.Unix(0, 0).UTC()
	if claims.NotBefore != nil {
		nbf = claims.NotBefore.Time()
	}
	if wall.After(exp.Add(assertionSkew)) || wall.Before(nbf.Add(-assertionSkew)) {
		const f = "2006-01-02T15:04:05.0000000Z"
		return errAssertionTime(wall.UTC().Format(f), nbf.UTC().Format(f), exp.UTC().Format(f))
	}
	if claims.ID == "" {
		return errMalformedJWT("the client assertion has no 'jti' claim")
	}
	return nil
}

// SweepAssertions forgets the replay records that versions before this
// one kept of certificate assertions; none are written any more, and
// those left expire within minutes.
func (s *Service) SweepAssertions(ctx context.Context) error {
	now := s.wall.Now()
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		items, err := tx.List(kindAssertionJTI, "")
		if err != nil {
			return err
		}
		for _, it := range items {
			var rec struct {
				Exp time.Time `json:"exp"`
			}
			if json.Unmarshal(it.Value, &rec) != nil || now.After(rec.Exp) {
				if err := tx.Delete(kindAssertionJTI, it.Key); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// audienceOK accepts the v1 or v2 token endpoint of this tenant (by ID,
// by domain, or the segment the client used) on a base the caller reaches.
func (s *Service) audienceOK(ctx context.Context, r *grantRequest, aud jwt.Audience) bool {
	for _, a := range aud {
		u, err := url.Parse(a)
		if err != nil || u.Scheme != "https" {
			continue
		}
		base := u.Scheme + "://" + u.Host
		okBase := false
		for _, b := range r.LoginBases {
			if strings.EqualFold(b, base) {
				okBase = true
			}
		}
		if !okBase {
			continue
		}
		seg, rest, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		if rest != "oauth2/token" && rest != "oauth2/v2.0/token" {
			continue
		}
		if strings.EqualFold(seg, r.Tenant) {
			return true
		}
		if t, err := s.dir.CachedTenant(ctx, seg); err == nil && t.ID == r.tenant.ID {
			return true
		}
	}
	return false
}

// decodeThumb reads a thumbprint header in base64url (the standard) or
// padded standard base64 (what MSAL Go sends for x5t#S256).
func decodeThumb(v string) []byte {
	if v == "" {
		return nil
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b
		}
	}
	return nil
}

func firstCert(x5c []string) []byte {
	if len(x5c) == 0 {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(x5c[0])
	if err != nil {
		return nil
	}
	return b
}
