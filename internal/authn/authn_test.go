package authn

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/go-jose/go-jose/v4"
)

type oneKey struct {
	kid string
	pub *rsa.PublicKey
}

func (k oneKey) VerifyKey(_ context.Context, kid string) (*rsa.PublicKey, bool) {
	return k.pub, kid == k.kid
}

func sign(t *testing.T, key *rsa.PrivateKey, alg jose.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func TestValidateChecksEverything(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	v := New(oneKey{"k1", &key.PublicKey}, clock.Func(func() time.Time { return now }))
	accept := Accept{Audiences: []string{"https://management.core.windows.net/"}, IssuerBases: []string{"https://127.0.0.1:8443"}}
	tid := "11111111-2222-3333-4444-555555555555"
	good := func() map[string]any {
		return map[string]any{"aud": "https://management.core.windows.net", "iss": "https://127.0.0.1:8443/" + tid + "/",
			"iat": now.Add(-5 * time.Minute).Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
			"tid": tid, "oid": "0b0b0b0b-0000-4000-8000-000000000001", "appid": "app-1", "idtyp": "app"}
	}
	p, err := v.FromHeader(context.Background(), "Bearer "+sign(t, key, jose.RS256, "k1", good()), accept)
	if err != nil || p.ObjectID != "0b0b0b0b-0000-4000-8000-000000000001" || p.AppID != "app-1" || p.Type != "app" || p.TenantID != tid {
		t.Fatalf("good token: %+v %v", p, err)
	}
	with := func(k string, val any) map[string]any { c := good(); c[k] = val; return c }
	cases := []struct {
		name string
		tok  string
		want error
	}{
		{"other key", sign(t, other, jose.RS256, "k1", good()), ErrInvalid},
		{"unknown kid", sign(t, key, jose.RS256, "k2", good()), ErrInvalid},
		{"PS256 not accepted", sign(t, key, jose.PS256, "k1", good()), ErrInvalid},
		{"expired", sign(t, key, jose.RS256, "k1", with("exp", now.Add(-10*time.Minute).Unix())), ErrExpired},
		{"not yet valid", sign(t, key, jose.RS256, "k1", with("nbf", now.Add(time.Hour).Unix())), ErrInvalid},
		{"wrong audience", sign(t, key, jose.RS256, "k1", with("aud", "https://graph.microsoft.com")), ErrAudience},
		{"foreign issuer", sign(t, key, jose.RS256, "k1", with("iss", "https://evil.example/"+tid+"/")), ErrInvalid},
		{"issuer of another tenant", sign(t, key, jose.RS256, "k1", with("iss", "https://127.0.0.1:8443/99999999-2222-3333-4444-555555555555/")), ErrInvalid},
		{"no oid", sign(t, key, jose.RS256, "k1", with("oid", "")), ErrInvalid},
		{"no exp", sign(t, key, jose.RS256, "k1", with("exp", nil)), ErrInvalid},
		{"garbage", "a.b.c", ErrInvalid},
		{"alg none", "eyJhbGciOiJub25lIn0.eyJvaWQiOiJ4In0.", ErrInvalid},
	}
	for _, c := range cases {
		if _, err := v.Validate(context.Background(), c.tok, accept); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := v.FromHeader(context.Background(), "Basic abc", accept); !errors.Is(err, ErrNoToken) {
		t.Errorf("basic header: %v", err)
	}
	v2 := with("iss", "https://127.0.0.1:8443/"+tid+"/v2.0")
	if _, err := v.Validate(context.Background(), sign(t, key, jose.RS256, "k1", v2), accept); err != nil {
		t.Errorf("v2 issuer: %v", err)
	}
}
