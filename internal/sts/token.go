package sts

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/aksid/aksid/internal/directory"
)

// accessClaims are the claims of an Entra access token; v1 and v2 differ
// in which of appid/azp, appidacr/azpacr and idp they carry.
type accessClaims struct {
	Aud      string   `json:"aud"`
	Iss      string   `json:"iss"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf"`
	Exp      int64    `json:"exp"`
	Aio      string   `json:"aio"`
	AppID    string   `json:"appid,omitempty"`
	AppIDAcr string   `json:"appidacr,omitempty"`
	Azp      string   `json:"azp,omitempty"`
	AzpAcr   string   `json:"azpacr,omitempty"`
	Idp      string   `json:"idp,omitempty"`
	Idtyp    string   `json:"idtyp"`
	Oid      string   `json:"oid"`
	Rh       string   `json:"rh"`
	Roles    []string `json:"roles,omitempty"`
	Sub      string   `json:"sub"`
	Tid      string   `json:"tid"`
	Uti      string   `json:"uti"`
	Ver      string   `json:"ver"`
	XmsCC    []string `json:"xms_cc,omitempty"`
	XmsMirid string   `json:"xms_mirid,omitempty"`

	Cnf *confirmation `json:"cnf,omitempty"` // proof-of-possession binding
}

// tokenExtras vary an app token: a fixed lifetime and the managed
// identity's resource ID.
type tokenExtras struct {
	lifetime int64
	mirid    string
}

// issueAppToken mints an app-only access token. Its version follows the
// resource's accessTokenAcceptedVersion, not the endpoint, as in Entra.
func (s *Service) issueAppToken(r *grantRequest, client directory.Client, res directory.Resource, acr string) (*TokenResponse, error) {
	return s.issue(r, client, res, acr, tokenExtras{})
}

func (s *Service) issue(r *grantRequest, client directory.Client, res directory.Resource, acr string, x tokenExtras) (*TokenResponse, error) {
	now := s.wall.Now()
	lifetime := int64(appTokenLifetime)
	cae := wantsCAE(r.Form.Get("claims")) && res.App.SupportsCAE
	if cae {
		lifetime = caeTokenLifetime
	}
	if x.lifetime > 0 {
		lifetime = x.lifetime
	}
	tid := r.tenant.ID
	c := accessClaims{
		Iat: now.Add(-backdate).Unix(), Nbf: now.Add(-backdate).Unix(), Exp: now.Unix() + lifetime,
		Aio: s.opaque(48), Idtyp: "app", Oid: client.SP.ObjectID, Sub: client.SP.ObjectID, Tid: tid,
		Rh: "0." + s.opaque(54) + ".", Uti: s.opaque(16), Roles: res.App.RoleValues(client.SP.HeldRoles[res.SP.ObjectID]),
	}
	if cae {
		c.XmsCC = []string{"CP1"}
	}
	c.XmsMirid, c.Cnf = x.mirid, r.cnf
	if res.App.AccessTokenAcceptedVersion == 2 {
		c.Ver, c.Aud, c.Iss = "2.0", res.App.AppID, r.Issuers.V2(tid)
		c.Azp, c.AzpAcr = client.App.AppID, acr
	} else {
		// v1 audience is the resource string exactly as requested.
		c.Ver, c.Aud, c.Iss = "1.0", r.resource, r.Issuers.V1(tid)
		c.AppID, c.AppIDAcr, c.Idp = client.App.AppID, acr, r.Issuers.V1(tid)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	tok, err := s.keys.Sign(payload)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{
		Version: r.Version, TokenType: r.cnf.tokenType(), AccessToken: tok,
		ExpiresIn: lifetime, ExtExpiresIn: lifetime, ExpiresOn: c.Exp, NotBefore: c.Nbf, Resource: r.resource,
	}, nil
}

// opaque returns n random bytes in base64url, for Entra's opaque claims.
func (s *Service) opaque(n int) string {
	b := make([]byte, n)
	if _, err := s.rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; a token must
		// never carry predictable identifiers, so stop loudly.
		panic("sts: random source failed")
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Lifetimes exported for the key manager's retention.
const MaxTokenLifetime = caeTokenLifetime*time.Second + backdate
