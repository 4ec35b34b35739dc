package sts

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindRefreshToken = "sts_refresh_token" // sha256(token) → refreshRecord
	// refreshLifetime is Entra's inactivity window for refresh tokens.
	refreshLifetime = 90 * 24 * time.Hour
	// maxGroupsInToken: above it a token carries the overage claims instead.
	maxGroupsInToken = 200
)

// refreshRecord is what a refresh token stands for; only its hash is kept.
type refreshRecord struct {
	TenantID string    `json:"tenantId"`
	UserID   string    `json:"userId"`
	ClientID string    `json:"clientId"`
	Scope    string    `json:"scope"`
	Expires  time.Time `json:"expires"` // aksid's clock
	AuthTime int64     `json:"authTime"`
	AMR      []string  `json:"amr"`
	Issued   time.Time `json:"issued"` // aksid's clock; revocation compares it
}

// userClaims are an access token's claims for a signed-in user.
type userClaims struct {
	Aud      string   `json:"aud"`
	Iss      string   `json:"iss"`
	Iat      int64    `json:"iat"`
	Nbf      int64    `json:"nbf"`
	Exp      int64    `json:"exp"`
	Acr      string   `json:"acr,omitempty"`
	Aio      string   `json:"aio"`
	Amr      []string `json:"amr,omitempty"`
	AppID    string   `json:"appid,omitempty"`
	AppIDAcr string   `json:"appidacr,omitempty"`
	Azp      string   `json:"azp,omitempty"`
	AzpAcr   string   `json:"azpacr,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	// Overage: _claim_names/_claim_sources point Graph callers elsewhere.
	ClaimNames   map[string]string         `json:"_claim_names,omitempty"`
	ClaimSources map[string]map[string]any `json:"_claim_sources,omitempty"`
	Idtyp        string                    `json:"idtyp"`
	Name         string                    `json:"name,omitempty"`
	Oid          string                    `json:"oid"`
	PreferredUN  string                    `json:"preferred_username,omitempty"`
	Rh           string                    `json:"rh"`
	Roles        []string                  `json:"roles,omitempty"`
	Scp          string                    `json:"scp"`
	Sub          string                    `json:"sub"`
	Tid          string                    `json:"tid"`
	UniqueName   string                    `json:"unique_name,omitempty"`
	Upn          string                    `json:"upn,omitempty"`
	Uti          string                    `json:"uti"`
	Ver          string                    `json:"ver"`
	Cnf          *confirmation             `json:"cnf,omitempty"`
}

// userSession is a signed-in user about to get tokens.
type userSession struct {
	user     directory.User
	client   directory.Client
	resource directory.Resource
	scope    string // the scopes asked for, echoed back (MSAL checks)
	scp      string // the scopes consented to, for the scp claim
	amr      []string
	authTime int64
	offline  bool // offline_access: hand out a refresh token
	openid   bool // openid: hand out an ID token
	nonce    string
}

// issueUserTokens mints the access token (and refresh and ID tokens and
// client_info as asked) for a signed-in user.
func (s *Service) issueUserTokens(ctx context.Context, r *grantRequest, us userSession) (*TokenResponse, error) {
	now := s.wall.Now()
	// Entra gives user tokens a randomized 60–90 minute life.
	var jitter [2]byte
	_, _ = s.rand.Read(jitter[:])
	lifetime := 3600 + (int64(jitter[0])<<8|int64(jitter[1]))%1801
	tid := r.tenant.ID
	sub := PairwiseSub(us.user.ObjectID, us.client.App.AppID)
	c := userClaims{
		Iat: now.Add(-backdate).Unix(), Nbf: now.Add(-backdate).Unix(), Exp: now.Unix() + lifetime,
		Acr: "1", Aio: s.opaque(48), Amr: us.amr, Idtyp: "user", Name: us.user.DisplayName, Oid: us.user.ObjectID,
		Rh: "0." + s.opaque(54) + ".", Scp: us.scp, Sub: sub, Tid: tid, Uti: s.opaque(16), Cnf: r.cnf,
	}
	groups, err := s.dir.TransitiveGroups(ctx, tid, us.user.ObjectID)
	if err != nil {
		return nil, err
	}
	if len(groups) > maxGroupsInToken {
		c.ClaimNames = map[string]string{"groups": "src1"}
		// Entra still names the retired Azure AD Graph here, which aksid does
		// not serve; Microsoft Graph's getMemberObjects takes the same POST.
		c.ClaimSources = map[string]map[string]any{"src1": {"endpoint": r.Issuers.Graph() + "/v1.0/users/" + us.user.ObjectID + "/getMemberObjects"}}
	} else if len(groups) > 0 {
		c.Groups = groups
	}
	if c.Roles, err = s.dir.AssignedRoleValues(ctx, tid, us.resource, append([]string{us.user.ObjectID}, groups...)); err != nil {
		return nil, err
	}
	if us.resource.App.AccessTokenAcceptedVersion == 2 {
		c.Ver, c.Aud, c.Iss, c.Azp, c.AzpAcr = "2.0", us.resource.App.AppID, r.Issuers.V2(tid), us.client.App.AppID, "0"
		c.PreferredUN = us.user.UserPrincipalName
	} else {
		c.Ver, c.Aud, c.Iss, c.AppID, c.AppIDAcr = "1.0", r.resource, r.Issuers.V1(tid), us.client.App.AppID, "0"
		c.Upn, c.UniqueName = us.user.UserPrincipalName, us.user.UserPrincipalName
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	at, err := s.keys.Sign(payload)
	if err != nil {
		return nil, err
	}
	resp := &TokenResponse{Version: r.Version, TokenType: r.cnf.tokenType(), AccessToken: at, ExpiresIn: lifetime, ExtExpiresIn: lifetime,
		ExpiresOn: c.Exp, NotBefore: c.Nbf, Resource: r.resource, Scope: us.scope}
	if r.Form.Get("client_info") == "1" {
		ci, _ := json.Marshal(map[string]string{"uid": us.user.ObjectID, "utid": tid})
		resp.ClientInfo = base64.RawURLEncoding.EncodeToString(ci)
	}
	if us.openid {
		if resp.IDToken, err = s.idToken(r, us, sub, now); err != nil {
			return nil, err
		}
	}
	if us.offline {
		if resp.RefreshToken, err = s.newRefreshToken(ctx, r, us); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// idToken is the OpenID Connect ID token: who signed in, for the client.
func (s *Service) idToken(r *grantRequest, us userSession, sub string, now time.Time) (string, error) {
	tid := r.tenant.ID
	claims := map[string]any{
		"aud": us.client.App.AppID, "iss": r.Issuers.V2(tid), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": us.user.DisplayName, "oid": us.user.ObjectID, "preferred_username": us.user.UserPrincipalName,
		"rh": "0." + s.opaque(54) + ".", "sub": sub, "tid": tid, "uti": s.opaque(16), "ver": "2.0",
	}
	if r.Version == V1 {
		claims["iss"], claims["ver"], claims["upn"], claims["unique_name"] = r.Issuers.V1(tid), "1.0", us.user.UserPrincipalName, us.user.UserPrincipalName
	}
	if us.nonce != "" {
		claims["nonce"] = us.nonce
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return s.keys.Sign(b)
}

// PairwiseSub is the per-application subject Entra gives a user, in its
// tokens and at Graph's userinfo endpoint.
func PairwiseSub(oid, appID string) string {
	sum := sha256.Sum256([]byte(oid + "|" + appID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

func refreshKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newRefreshToken stores (the hash of) a fresh refresh token.
func (s *Service) newRefreshToken(ctx context.Context, r *grantRequest, us userSession) (string, error) {
	token := "1." + s.opaque(32) + "." + s.opaque(48)
	rec := refreshRecord{TenantID: r.tenant.ID, UserID: us.user.ObjectID, ClientID: us.client.App.AppID, Scope: us.scope,
		Expires: s.aksid.Now().Add(refreshLifetime), AuthTime: us.authTime, AMR: us.amr, Issued: s.aksid.Now()}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.CreateJSON(tx, kindRefreshToken, refreshKey(token), rec)
	})
	return token, err
}

// readRefreshToken reads what a refresh token stands for without
// spending it: the refresh grant deletes it (they rotate) only once the
// client is authenticated and the request found good.
func (s *Service) readRefreshToken(ctx context.Context, token, clientID string) (refreshRecord, error) {
	var rec refreshRecord
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindRefreshToken, refreshKey(token), &rec)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rec, errRefreshInvalid()
	case err != nil:
		return rec, err
	case !strings.EqualFold(rec.ClientID, clientID):
		return rec, errRefreshClient()
	case s.aksid.Now().After(rec.Expires):
		return rec, errRefreshExpired()
	}
	return rec, nil
}
