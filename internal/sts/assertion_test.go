package sts

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

type assertionOpts struct {
	alg      jose.SignatureAlgorithm
	aud, iss string
	nbf, exp time.Time
	jti      string
	sha256   bool // MSAL: x5t#S256 in padded standard base64
}

func signAssertion(t *testing.T, key *rsa.PrivateKey, cert *x509.Certificate, o assertionOpts) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if o.sha256 {
		sum := sha256.Sum256(cert.Raw)
		opts = opts.WithHeader("x5t#S256", base64.StdEncoding.EncodeToString(sum[:])).
			WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(cert.Raw)})
	} else {
		opts = opts.WithHeader("x5t", thumbprint(cert.Raw))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := jwt.Claims{Issuer: o.iss, Subject: o.iss, Audience: jwt.Audience{o.aud}, ID: o.jti,
		NotBefore: jwt.NewNumericDate(o.nbf), Expiry: jwt.NewNumericDate(o.exp)}
	s, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCertificateAssertion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := e.wall.Now()
	cert, key := newCert(t, now)
	if _, err := e.dir.AddCertificate(ctx, e.app.AppID, "ci", cert); err != nil {
		t.Fatal(err)
	}
	otherCert, otherKey := newCert(t, now)
	endpoint := testBase + "/" + testTenant + "/oauth2/v2.0/token"
	good := assertionOpts{alg: jose.PS256, aud: endpoint, iss: e.app.AppID, nbf: now, exp: now.Add(10 * time.Minute), sha256: true}
	form := func(assertion string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {e.app.AppID}, "client_info": {"1"},
			"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {assertion},
			"scope": {directory.AKSServerApp + "/.default openid offline_access profile"}}
	}
	expectCode := func(t *testing.T, assertion string, code int) {
		t.Helper()
		_, err := e.svc.Token(ctx, e.request(V2, testTenant, form(assertion)))
		var se *Error
		if !errors.As(err, &se) || se.Code != code {
			t.Fatalf("got %v, want AADSTS%d", err, code)
		}
	}
	t.Run("MSAL PS256 with x5t#S256 and x5c", func(t *testing.T) {
		o := good
		o.jti = uuid.NewString()
		resp, err := e.svc.Token(ctx, e.request(V2, testTenant, form(signAssertion(t, key, cert, o))))
		if err != nil {
			t.Fatal(err)
		}
		c := e.claims(resp.AccessToken)
		if c["appidacr"] != "2" || c["oid"] != e.sp.ObjectID {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("RS256 with x5t, v1 endpoint by domain", func(t *testing.T) {
		o := good
		o.alg, o.sha256, o.jti, o.aud = jose.RS256, false, uuid.NewString(), testBase+"/"+testDomain+"/oauth2/token"
		f := form(signAssertion(t, key, cert, o))
		f.Del("scope")
		f.Set("resource", directory.AKSServerApp)
		if _, err := e.svc.Token(ctx, e.request(V1, testDomain, f)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the same assertion again, as MSAL sends it for each scope", func(t *testing.T) {
		o := good
		o.jti = uuid.NewString()
		a := signAssertion(t, key, cert, o)
		for range 2 {
			if _, err := e.svc.Token(ctx, e.request(V2, testTenant, form(a))); err != nil {
				t.Fatalf("a valid assertion presented again: %v", err)
			}
		}
	})
	t.Run("unregistered certificate", func(t *testing.T) {
		o := good
		o.jti = uuid.NewString()
		expectCode(t, signAssertion(t, otherKey, otherCert, o), 700027)
	})
	t.Run("registered thumbprint, wrong key", func(t *testing.T) {
		o := good
		o.jti = uuid.NewString()
		expectCode(t, signAssertion(t, otherKey, cert, o), 700027)
	})
	t.Run("expired", func(t *testing.T) {
		o := good
		o.jti, o.nbf, o.exp = uuid.NewString(), now.Add(-time.Hour), now.Add(-30*time.Minute)
		expectCode(t, signAssertion(t, key, cert, o), 700024)
	})
	t.Run("not yet valid", func(t *testing.T) {
		o := good
		o.jti, o.nbf, o.exp = uuid.NewString(), now.Add(time.Hour), now.Add(2*time.Hour)
		expectCode(t, signAssertion(t, key, cert, o), 700024)
	})
	t.Run("wrong audience", func(t *testing.T) {
		o := good
		o.jti, o.aud = uuid.NewString(), "https://login.example.com/"+testTenant+"/oauth2/v2.0/token"
		expectCode(t, signAssertion(t, key, cert, o), 700023)
	})
	t.Run("other tenant's endpoint", func(t *testing.T) {
		o := good
		o.jti, o.aud = uuid.NewString(), testBase+"/"+uuid.NewString()+"/oauth2/v2.0/token"
		expectCode(t, signAssertion(t, key, cert, o), 700023)
	})
	t.Run("issuer is another app", func(t *testing.T) {
		o := good
		o.jti, o.iss = uuid.NewString(), uuid.NewString()
		expectCode(t, signAssertion(t, key, cert, o), 700021)
	})
	t.Run("missing jti", func(t *testing.T) {
		expectCode(t, signAssertion(t, key, cert, good), 50027)
	})
	t.Run("certificate expired on aksid's clock", func(t *testing.T) {
		e.aksid.SetOffset(2 * 365 * 24 * time.Hour)
		defer e.aksid.SetOffset(0)
		o := good
		o.jti = uuid.NewString()
		expectCode(t, signAssertion(t, key, cert, o), 700027)
	})
	t.Run("sweep forgets the replay records older versions kept, after expiry", func(t *testing.T) {
		if n := countKind(t, e.st, kindAssertionJTI); n != 0 {
			t.Fatalf("%d replay records written", n)
		}
		exp, _ := json.Marshal(map[string]time.Time{"exp": e.wall.Now().Add(10 * time.Minute)})
		if err := e.st.Update(ctx, func(_ context.Context, tx store.Tx) error { return tx.Put(kindAssertionJTI, "old/record", exp) }); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SweepAssertions(ctx); err != nil || countKind(t, e.st, kindAssertionJTI) != 1 {
			t.Fatalf("sweep removed a live record: %v", err)
		}
		e.wall.Add(time.Hour)
		if err := e.svc.SweepAssertions(ctx); err != nil || countKind(t, e.st, kindAssertionJTI) != 0 {
			t.Fatalf("sweep kept an expired record: %v", err)
		}
	})
}
