package pop

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/clock"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const host = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/arc1"

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Keys are generated once: RSA generation dominates the tests otherwise.
var keys = sync.OnceValue(func() map[string]*rsa.PrivateKey {
	m := map[string]*rsa.PrivateKey{}
	for name, bits := range map[string]int{"client": 2048, "other": 2048, "issuer": 2048, "weak": 1024} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		m[name] = k
	}
	return m
})

// jwkOf is the public JWK the way kubelogin writes it, and its thumbprint.
func jwkOf(k *rsa.PrivateKey) (string, string) {
	n := base64.RawURLEncoding.EncodeToString(k.N.Bytes())
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	kid := base64.RawURLEncoding.EncodeToString(sum[:])
	return `{"e":"` + e + `","kty":"RSA","n":"` + n + `","alg":"RS256","kid":"` + kid + `"}`, kid
}

// accessToken is an aksid-shaped token signed by the issuer key, bound to
// cnf (omitted when nil).
func accessToken(t testing.TB, cnf any, mutate func(map[string]any)) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: keys()["issuer"]},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "issuer-key"))
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"iss": "https://sts.windows.net/tid/", "aud": "6256c85f-0aad-4d50-b960-e6e9b21efe35", "tid": "tid", "oid": "oid-1",
		"idtyp": "app", "appid": "app-1", "iat": now.Add(-5 * time.Minute).Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
	if cnf != nil {
		c["cnf"] = cnf
	}
	if mutate != nil {
		mutate(c)
	}
	tok, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// shr builds a signed HTTP request as kubelogin does (header and payload
// written by hand, RS256 over them with crypto/rsa), so the verifier is
// tested against the client's encoding rather than go-jose's.
type shr struct {
	header  string
	payload string
	key     *rsa.PrivateKey
}

func newSHR(t testing.TB, at string, ts time.Time, u string) shr {
	t.Helper()
	jwk, kid := jwkOf(keys()["client"])
	return shr{
		header:  `{"typ":"pop","alg":"RS256","kid":"` + kid + `"}`,
		payload: fmt.Sprintf(`{"at":%q,"ts":%d,"u":%q,"cnf":{"jwk":%s},"nonce":"0123456789abcdef0123456789abcdef"}`, at, ts.Unix(), u, jwk),
		key:     keys()["client"],
	}
}

func (s shr) String() string {
	signing := base64.RawURLEncoding.EncodeToString([]byte(s.header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(s.payload))
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func verifier(t testing.TB, o Options) *Verifier {
	t.Helper()
	if o.Host == "" {
		o.Host = host
	}
	if o.Clock == nil {
		o.Clock = clock.Func(func() time.Time { return now })
	}
	v, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func boundToken(t testing.TB) string {
	_, kid := jwkOf(keys()["client"])
	return accessToken(t, map[string]string{"kid": kid, "xms_ksl": "sw"}, nil)
}

func TestVerifyAcceptsKubeloginSHR(t *testing.T) {
	at := boundToken(t)
	// u is compared case-insensitively, as guard does.
	r, err := verifier(t, Options{}).Verify(newSHR(t, at, now.Add(-time.Minute), strings.ToUpper(host)).String())
	if err != nil {
		t.Fatal(err)
	}
	_, kid := jwkOf(keys()["client"])
	if r.AccessToken != at || r.Thumbprint != kid || !r.Timestamp.Equal(now.Add(-time.Minute)) || r.Nonce != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("result %+v", r)
	}
}

func TestVerifyRejectsForgeries(t *testing.T) {
	at := boundToken(t)
	good := newSHR(t, at, now, host)
	_, kid := jwkOf(keys()["client"])
	otherJWK, otherKid := jwkOf(keys()["other"])
	weakJWK, weakKid := jwkOf(keys()["weak"])
	hs256 := func() string {
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")},
			(&jose.SignerOptions{}).WithType("pop").WithHeader("kid", kid))
		obj, _ := sig.Sign([]byte(good.payload))
		s, _ := obj.CompactSerialize()
		return s
	}
	mod := func(f func(*shr)) string { s := good; f(&s); return s.String() }
	tampered := func() string {
		parts := strings.Split(good.String(), ".")
		p := strings.Replace(good.payload, `"nonce":"0`, `"nonce":"1`, 1)
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte(p))
		return strings.Join(parts, ".")
	}
	cases := []struct {
		name string
		shr  string
		want error
	}{
		{"two parts", strings.Join(strings.Split(good.String(), ".")[:2], "."), ErrMalformed},
		{"four parts", good.String() + ".x", ErrMalformed},
		{"not base64", "a.b.c", ErrMalformed},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, ErrMalformed},
		{"alg none", mod(func(s *shr) { s.header = `{"typ":"pop","alg":"none","kid":"` + kid + `"}` }), ErrMalformed},
		{"alg HS256 keyed with anything", hs256(), ErrAlgorithm},
		{"alg PS256", mod(func(s *shr) { s.header = `{"typ":"pop","alg":"PS256","kid":"` + kid + `"}` }), ErrAlgorithm},
		{"typ JWT", mod(func(s *shr) { s.header = `{"typ":"JWT","alg":"RS256","kid":"` + kid + `"}` }), ErrType},
		{"no typ", mod(func(s *shr) { s.header = `{"alg":"RS256","kid":"` + kid + `"}` }), ErrType},
		{"no kid", mod(func(s *shr) { s.header = `{"typ":"pop","alg":"RS256"}` }), ErrThumbprint},
		{"payload not JSON", mod(func(s *shr) { s.payload = "at=1" }), ErrMalformed},
		{"no jwk", mod(func(s *shr) { s.payload = strings.Replace(s.payload, `"jwk"`, `"jwx"`, 1) }), ErrKey},
		{"EC jwk", mod(func(s *shr) {
			s.payload = fmt.Sprintf(`{"at":%q,"ts":%d,"u":%q,"cnf":{"jwk":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}`, at, now.Unix(), host)
		}), ErrKey},
		{"jwk with private members", mod(func(s *shr) {
			priv, _ := json.Marshal(jose.JSONWebKey{Key: keys()["client"]})
			s.payload = strings.Replace(s.payload, mustJWK(t), string(priv), 1)
		}), ErrKey},
		{"1024-bit key", mod(func(s *shr) {
			s.key, s.header = keys()["weak"], `{"typ":"pop","alg":"RS256","kid":"`+weakKid+`"}`
			s.payload = strings.Replace(s.payload, mustJWK(t), weakJWK, 1)
		}), ErrKey},
		{"kid not the jwk's thumbprint", mod(func(s *shr) { s.header = `{"typ":"pop","alg":"RS256","kid":"` + otherKid + `"}` }), ErrThumbprint},
		// The attacker swaps in their own key and re-signs: the key and
		// signature agree, but the token is bound to the victim's key.
		{"swapped jwk, re-signed", mod(func(s *shr) {
			s.key, s.header = keys()["other"], `{"typ":"pop","alg":"RS256","kid":"`+otherKid+`"}`
			s.payload = strings.Replace(s.payload, mustJWK(t), otherJWK, 1)
		}), ErrUnbound},
		{"swapped jwk, victim's kid", mod(func(s *shr) {
			s.key = keys()["other"]
			s.payload = strings.Replace(s.payload, mustJWK(t), otherJWK, 1)
		}), ErrThumbprint},
		{"signed by another key", mod(func(s *shr) { s.key = keys()["other"] }), ErrSignature},
		{"payload tampered", tampered(), ErrSignature},
		{"no at", mod(func(s *shr) { s.payload = strings.Replace(s.payload, `"at":`, `"xt":`, 1) }), ErrMalformed},
		{"no ts", mod(func(s *shr) { s.payload = strings.Replace(s.payload, `"ts":`, `"tx":`, 1) }), ErrMalformed},
		{"ts a string", mod(func(s *shr) {
			s.payload = strings.Replace(s.payload, fmt.Sprintf(`"ts":%d`, now.Unix()), `"ts":"now"`, 1)
		}), ErrMalformed},
		{"ts 16 minutes old", newSHR(t, at, now.Add(-16*time.Minute), host).String(), ErrExpired},
		{"ts 6 minutes ahead", newSHR(t, at, now.Add(6*time.Minute), host).String(), ErrFuture},
		{"wrong u", newSHR(t, at, now, host+"2").String(), ErrHost},
		{"no u", mod(func(s *shr) { s.payload = strings.Replace(s.payload, `"u":`, `"x":`, 1) }), ErrHost},
		{"bearer token wrapped", newSHR(t, accessToken(t, nil, nil), now, host).String(), ErrUnbound},
		{"token bound to another key", newSHR(t, accessToken(t, map[string]string{"kid": otherKid}, nil), now, host).String(), ErrUnbound},
		{"cnf not strings", newSHR(t, accessToken(t, map[string]any{"kid": 1}, nil), now, host).String(), ErrUnbound},
		{"at not a JWT", newSHR(t, "opaque-token", now, host).String(), ErrMalformed},
	}
	v := verifier(t, Options{})
	for _, c := range cases {
		if _, err := v.Verify(c.shr); !errors.Is(err, c.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// The untouched SHR passes, so each refusal above is the one change.
	if _, err := v.Verify(good.String()); err != nil {
		t.Fatal(err)
	}
}

func mustJWK(t testing.TB) string { j, _ := jwkOf(keys()["client"]); return j }

func TestValidityWindowIsConfigurable(t *testing.T) {
	at := boundToken(t)
	old := newSHR(t, at, now.Add(-20*time.Minute), host).String()
	if _, err := verifier(t, Options{}).Verify(old); !errors.Is(err, ErrExpired) {
		t.Fatalf("default window: %v", err)
	}
	if _, err := verifier(t, Options{Validity: 30 * time.Minute}).Verify(old); err != nil {
		t.Fatalf("30 min window: %v", err)
	}
	ahead := newSHR(t, at, now.Add(4*time.Minute), host).String()
	if _, err := verifier(t, Options{}).Verify(ahead); err != nil {
		t.Fatalf("within the future skew: %v", err)
	}
	if _, err := verifier(t, Options{FutureSkew: time.Minute}).Verify(ahead); !errors.Is(err, ErrFuture) {
		t.Fatalf("1 min skew: %v", err)
	}
	if _, err := New(Options{Clock: clock.Wall{}}); err == nil {
		t.Fatal("a verifier without a host")
	}
}

type keySource map[string]*rsa.PublicKey

func (k keySource) VerifyKey(_ context.Context, kid string) (*rsa.PublicKey, bool) {
	p, ok := k[kid]
	return p, ok
}

func TestAuthenticateValidatesTheInnerToken(t *testing.T) {
	val := authn.New(keySource{"issuer-key": &keys()["issuer"].PublicKey}, clock.Func(func() time.Time { return now }))
	accept := authn.Accept{Audiences: []string{"6256c85f-0aad-4d50-b960-e6e9b21efe35"}, IssuerBases: []string{"https://sts.windows.net"}}
	v := verifier(t, Options{})
	ctx := context.Background()
	got, err := v.Authenticate(ctx, newSHR(t, boundToken(t), now, host).String(), val, accept)
	p, r := got.Principal, got.Result
	if err != nil || p.ObjectID != "oid-1" || p.AppID != "app-1" || r.Thumbprint == "" {
		t.Fatalf("principal %+v result %+v: %v", p, r, err)
	}
	_, kid := jwkOf(keys()["client"])
	cnf := map[string]string{"kid": kid}
	expired := accessToken(t, cnf, func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })
	if _, err := v.Authenticate(ctx, newSHR(t, expired, now, host).String(), val, accept); !errors.Is(err, authn.ErrExpired) {
		t.Fatalf("expired inner token: %v", err)
	}
	otherAud := accessToken(t, cnf, func(c map[string]any) { c["aud"] = "https://management.azure.com/" })
	if _, err := v.Authenticate(ctx, newSHR(t, otherAud, now, host).String(), val, accept); !errors.Is(err, authn.ErrAudience) {
		t.Fatalf("inner token for another audience: %v", err)
	}
	// An inner token the attacker minted (bound to their key, signed by
	// them) passes the SHR checks but not the token's own validation.
	forged := func() string {
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: keys()["other"]}, (&jose.SignerOptions{}).WithHeader("kid", "issuer-key"))
		tok, _ := jwt.Signed(sig).Claims(map[string]any{"iss": "https://sts.windows.net/tid/", "aud": accept.Audiences[0], "tid": "tid", "oid": "x",
			"exp": now.Add(time.Hour).Unix(), "cnf": cnf}).Serialize()
		return tok
	}()
	if _, err := v.Authenticate(ctx, newSHR(t, forged, now, host).String(), val, accept); !errors.Is(err, authn.ErrInvalid) {
		t.Fatalf("forged inner token: %v", err)
	}
	if _, err := v.Authenticate(ctx, newSHR(t, boundToken(t), now, "elsewhere").String(), val, accept); !errors.Is(err, ErrHost) {
		t.Fatalf("wrong host: %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	good := newSHR(f, boundToken(f), now, host).String()
	f.Add(good)
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("a.b.c")
	f.Add("")
	v := verifier(f, Options{})
	f.Fuzz(func(t *testing.T, s string) {
		r, err := v.Verify(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error outside ErrInvalid: %v", err)
			}
			return
		}
		// Anything accepted must be a correctly signed SHR over a token
		// bound to the same key.
		if r.AccessToken == "" || r.Thumbprint == "" || boundTo(r.AccessToken, r.Thumbprint) != nil {
			t.Fatalf("accepted %q as %+v", s, r)
		}
	})
}
