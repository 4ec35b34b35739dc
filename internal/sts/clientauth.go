package sts

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
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
// class for the token, and the assertion's jti to record once the request
// succeeds (nil without a certificate assertion).
type clientAuth struct {
	acr string
	jti *usedJTI
}

// authenticate checks the client's secret or assertion. It changes
// nothing: a certificate assertion's jti is recorded by Token's spend.
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
	jti, err := s.checkAssertion(ctx, r, c.App, assertion)
	return clientAuth{acr: acrCert, jti: jti}, err
}

type assertionHeader struct {
	X5t       string   `json:"x5t"`
	X5tS256   string   `json:"x5t#S256"`
	X5c       []string `json:"x5c"`
	Algorithm string   `json:"alg"`
}

// checkAssertion verifies a certificate-signed client assertion: a key
// registered on the app, its signature, iss/sub, aud and time window. Its
// jti, to be never seen before, is returned for Token to record last.
func (s *Service) checkAssertion(ctx context.Context, r *grantRequest, app directory.Application, assertion string) (*usedJTI, error) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil {
		return nil, errMalformedJWT("the client assertion is not a signed JWT with an RSA algorithm")
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
		return nil, errAssertionKeyNotFound(shown, app.AppID)
	}
	if shown == "" {
		sum := sha1.Sum(cert.Raw)
		shown = strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	now := s.aksid.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, errAssertionKeyExpired(shown)
	}
	var claims jwt.Claims
	if err := tok.Claims(cert.PublicKey, &claims); err != nil {
		return nil, errAssertionSignature(shown)
	}
	if !strings.EqualFold(claims.Issuer, r.clientID) || !strings.EqualFold(claims.Subject, r.clientID) {
		return nil, errAssertionSubject()
	}
	if !s.audienceOK(ctx, r, claims.Audience) {
		return nil, errAssertionAudience()
	}
	wall := s.wall.Now()
	if claims.Expiry == nil {
		return nil, errMalformedJWT("the client assertion has no 'exp' claim")
	}
	exp := claims.Expiry.Time()
	nbf := time.Unix(0, 0).UTC()
	if claims.NotBefore != nil {
		nbf = claims.NotBefore.Time()
	}
	if wall.After(exp.Add(assertionSkew)) || wall.Before(nbf.Add(-assertionSkew)) {
		const f = "2006-01-02T15:04:05.0000000Z"
		return nil, errAssertionTime(wall.UTC().Format(f), nbf.UTC().Format(f), exp.UTC().Format(f))
	}
	if claims.ID == "" {
		return nil, errMalformedJWT("the client assertion has no 'jti' claim")
	}
	return &usedJTI{clientID: r.clientID, jti: claims.ID, exp: exp}, nil
}

// usedJTI is a certificate assertion's jti, recorded so the assertion
// cannot be presented again while it is valid.
type usedJTI struct {
	clientID, jti string
	exp           time.Time
}

func (u *usedJTI) record(tx store.Tx) error {
	sum := sha256.Sum256([]byte(u.jti))
	key := u.clientID + "/" + hex.EncodeToString(sum[:])
	b, _ := json.Marshal(struct {
		Exp time.Time `json:"exp"`
	}{u.exp.Add(assertionSkew)})
	err := tx.Create(kindAssertionJTI, key, b)
	if errors.Is(err, store.ErrExists) {
		return errAssertionReplayed(u.jti)
	}
	return err
}

// SweepAssertions forgets replay records whose assertions can no longer
// be used anyway.
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
