package sts

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	fedIssuer  = "https://westus2.oic.prod-aks.azure.com/" + testTenant + "/6f0e5a1c-1d2b-4c3d-8e9f-0a1b2c3d4e5f/"
	fedSubject = "system:serviceaccount:default:workload"
)

// fakeIssuer serves an OIDC issuer's two documents from memory and counts
// the fetches.
type fakeIssuer struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches int
	down    bool
}

func (f *fakeIssuer) Fetch(_ context.Context, u string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	if f.down {
		return nil, errors.New("connection refused")
	}
	switch u {
	case fedIssuer + ".well-known/openid-configuration":
		return json.Marshal(map[string]any{"issuer": fedIssuer, "jwks_uri": fedIssuer + "openid/v1/jwks"})
	case fedIssuer + "openid/v1/jwks":
		return json.Marshal(jose.JSONWebKeySet{Keys: f.keys})
	}
	return nil, fmt.Errorf("no document at %s", u)
}

func (f *fakeIssuer) publish(k jose.JSONWebKey) {
	f.mu.Lock()
	f.keys = append(f.keys, k)
	f.mu.Unlock()
}

type saToken struct {
	key      any
	alg      jose.SignatureAlgorithm
	kid      string
	iss, sub string
	aud      []string
	iat, exp time.Time
	nbf      *time.Time // default: iat
}

func (o saToken) sign(t *testing.T) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: jose.JSONWebKey{Key: o.key, KeyID: o.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	nbf := o.iat
	if o.nbf != nil {
		nbf = *o.nbf
	}
	c := jwt.Claims{Issuer: o.iss, Subject: o.sub, Audience: o.aud, IssuedAt: jwt.NewNumericDate(o.iat),
		NotBefore: jwt.NewNumericDate(nbf), Expiry: jwt.NewNumericDate(o.exp)}
	s, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFederatedCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	issuer := &fakeIssuer{}
	e.svc = NewService(Options{Directory: e.dir, Keys: e.keys, Store: e.st, Clock: e.aksid, Wall: e.wall, Random: rand.Reader, Fetcher: issuer})
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	issuer.publish(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"})
	issuer.publish(jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "sig"})

	if _, err := e.dir.CreateFederatedCredential(ctx, e.app.AppID, directory.FederatedCredential{Name: "wl", Issuer: fedIssuer, Subject: fedSubject}); err != nil {
		t.Fatal(err)
	}
	miID := "/subscriptions/35349980-0f19-46d4-b35c-857c4a1e327e/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/wl-mi"
	mi, err := e.dir.CreateManagedIdentity(ctx, testTenant, "wl-mi", miID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.UpsertFederatedCredential(ctx, mi.AppID, directory.FederatedCredential{Name: "wl", Issuer: fedIssuer,
		Subject: "system:serviceaccount:apps:api", Audiences: []string{directory.DefaultFederatedAudience}}); err != nil {
		t.Fatal(err)
	}
	reg, err := e.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "no-fic"})
	bare := reg.App
	if err != nil {
		t.Fatal(err)
	}

	now := e.wall.Now()
	good := saToken{key: rsaKey, alg: jose.RS256, kid: "rsa-1", iss: fedIssuer, sub: fedSubject,
		aud: []string{directory.DefaultFederatedAudience}, iat: now.Add(-time.Minute), exp: now.Add(time.Hour)}
	form := func(clientID, assertion string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
			"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {assertion},
			"scope": {directory.AKSServerApp + "/.default"}}
	}
	token := func(t *testing.T, clientID string, o saToken) map[string]any {
		t.Helper()
		resp, err := e.svc.Token(ctx, e.request(V2, testTenant, form(clientID, o.sign(t))))
		if err != nil {
			t.Fatal(err)
		}
		return e.claims(resp.AccessToken)
	}
	expectCode := func(t *testing.T, clientID string, o saToken, code int) {
		t.Helper()
		_, err := e.svc.Token(ctx, e.request(V2, testTenant, form(clientID, o.sign(t))))
		var se *Error
		if !errors.As(err, &se) || se.Code != code {
			t.Fatalf("got %v, want AADSTS%d", err, code)
		}
	}

	t.Run("application: RS256 service-account token", func(t *testing.T) {
		c := token(t, e.app.AppID, good)
		if c["oid"] != e.sp.ObjectID || c["appid"] != e.app.AppID || c["appidacr"] != "2" || c["idtyp"] != "app" || c["xms_mirid"] != nil {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("the same token again (Entra lets federated tokens be reused)", func(t *testing.T) {
		a := good.sign(t)
		for range 2 {
			if _, err := e.svc.Token(ctx, e.request(V2, testTenant, form(e.app.AppID, a))); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("ES256", func(t *testing.T) {
		o := good
		o.key, o.alg, o.kid = ecKey, jose.ES256, "ec-1"
		token(t, e.app.AppID, o)
	})
	t.Run("managed identity: MI token claims", func(t *testing.T) {
		o := good
		o.sub = "system:serviceaccount:apps:api"
		c := token(t, mi.AppID, o)
		if c["oid"] != mi.ObjectID || c["xms_mirid"] != miID || c["idtyp"] != "app" || c["appid"] != mi.AppID {
			t.Fatalf("claims %v", c)
		}
		if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat < 86000 {
			t.Fatalf("lifetime %v, want a managed identity's day", exp-iat)
		}
	})
	t.Run("no federated credential at all", func(t *testing.T) { expectCode(t, bare.AppID, good, 70021) })
	t.Run("wrong issuer", func(t *testing.T) {
		o := good
		o.iss = "https://token.actions.githubusercontent.com"
		expectCode(t, e.app.AppID, o, 700211)
	})
	t.Run("issuer differs only in case", func(t *testing.T) {
		o := good
		o.iss = "https://WESTUS2.oic.prod-aks.azure.com/" + testTenant + "/6f0e5a1c-1d2b-4c3d-8e9f-0a1b2c3d4e5f/"
		expectCode(t, e.app.AppID, o, 700211)
	})
	t.Run("wrong subject", func(t *testing.T) {
		o := good
		o.sub = "system:serviceaccount:default:other"
		expectCode(t, e.app.AppID, o, 700213)
	})
	t.Run("wrong audience", func(t *testing.T) {
		o := good
		o.aud = []string{"api://other"}
		expectCode(t, e.app.AppID, o, 700212)
	})
	t.Run("expired", func(t *testing.T) {
		o := good
		o.iat, o.exp = now.Add(-2*time.Hour), now.Add(-time.Hour)
		expectCode(t, e.app.AppID, o, 700024)
	})
	t.Run("issued in the future", func(t *testing.T) {
		o := good
		past := now.Add(-time.Minute)
		o.iat, o.nbf, o.exp = now.Add(time.Hour), &past, now.Add(2*time.Hour)
		expectCode(t, e.app.AppID, o, 700024)
	})
	t.Run("bad signature", func(t *testing.T) {
		o := good
		o.key = otherKey
		expectCode(t, e.app.AppID, o, 50013)
	})
	t.Run("unknown kid is refetched, then refused", func(t *testing.T) {
		e.wall.Add(time.Minute) // past the refetch gap
		before := issuer.fetches
		o := good
		o.key, o.kid = otherKey, "rotated"
		expectCode(t, e.app.AppID, o, 50013)
		if issuer.fetches != before+2 {
			t.Fatalf("fetches %d → %d, want one refetch of discovery and keys", before, issuer.fetches)
		}
		// Right away again: no new fetch (the gap bounds refetches).
		expectCode(t, e.app.AppID, o, 50013)
		if issuer.fetches != before+2 {
			t.Fatalf("refetched within the gap: %d", issuer.fetches)
		}
	})
	t.Run("a key published later is found on refetch", func(t *testing.T) {
		e.wall.Add(time.Minute)
		issuer.publish(jose.JSONWebKey{Key: &otherKey.PublicKey, KeyID: "rotated", Algorithm: "RS256", Use: "sig"})
		o := good
		o.key, o.kid = otherKey, "rotated"
		o.iat, o.exp = e.wall.Now(), e.wall.Now().Add(time.Hour)
		token(t, e.app.AppID, o)
	})
	t.Run("a key the issuer retires is refused as soon as aksid's clock passes the retirement", func(t *testing.T) {
		o := good
		o.iat, o.exp = e.wall.Now(), e.wall.Now().Add(time.Hour)
		token(t, e.app.AppID, o) // its keys are cached now
		issuer.mu.Lock()
		kept := issuer.keys
		issuer.keys = slices.DeleteFunc(slices.Clone(kept), func(k jose.JSONWebKey) bool { return k.KeyID == good.kid })
		issuer.mu.Unlock()
		// As after az aks oidc-issuer rotate-signing-keys and `aksid clock
		// advance 25h`: no wall time passes.
		e.aksid.SetOffset(e.aksid.Offset() + 25*time.Hour)
		expectCode(t, e.app.AppID, o, 50013)
		issuer.mu.Lock()
		issuer.keys = kept
		issuer.mu.Unlock()
	})
	t.Run("issuer unreachable", func(t *testing.T) {
		e.wall.Add(jwksTTL + time.Minute)
		issuer.mu.Lock()
		issuer.down = true
		issuer.mu.Unlock()
		defer func() { issuer.mu.Lock(); issuer.down = false; issuer.mu.Unlock() }()
		o := good
		o.iat, o.exp = e.wall.Now(), e.wall.Now().Add(time.Hour)
		expectCode(t, e.app.AppID, o, 501661)
	})
	t.Run("certificate assertions are untouched and nothing is recorded for federated ones", func(t *testing.T) {
		if n := countKind(t, e.st, kindAssertionJTI); n != 0 {
			t.Fatalf("%d replay records for federated assertions", n)
		}
	})
}
