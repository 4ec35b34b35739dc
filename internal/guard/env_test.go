package guard

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/store/sqlite"
	"github.com/aksid/aksid/internal/sts"
)

const (
	tenantA   = "11111111-2222-3333-4444-555555555555"
	tenantB   = "22222222-3333-4444-5555-666666666666"
	base      = "https://127.0.0.1:8443"
	clusterID = "/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	password  = "Correct-horse-1"
)

// wallClock is the clients' clock, moved by tests.
type wallClock struct {
	mu sync.Mutex
	t  time.Time
}

func (w *wallClock) Now() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.t }
func (w *wallClock) add(d time.Duration) {
	w.mu.Lock()
	w.t = w.t.Add(d)
	w.mu.Unlock()
}

// env is a real token service and directory over an in-memory store,
// with a reviewer that trusts its keys.
type env struct {
	t    *testing.T
	dir  *directory.Directory
	sts  *sts.Service
	wall *wallClock
	rev  *Reviewer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wall := &wallClock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	aksid := clock.NewVirtual(wall, 0)
	dir := directory.New(st, aksid, rand.Reader)
	for _, tn := range []directory.Tenant{
		{ID: tenantA, DisplayName: "Contoso", DefaultDomain: "contoso.test", Domains: []string{"contoso.test"}},
		{ID: tenantB, DisplayName: "Fabrikam", DefaultDomain: "fabrikam.test", Domains: []string{"fabrikam.test"}},
	} {
		if err := dir.EnsureTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		if err := dir.EnsureFirstParty(ctx, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	kr, err := keyring.Random()
	if err != nil {
		t.Fatal(err)
	}
	keys := sts.NewKeys(st, kr, wall, sts.KeyOptions{Period: time.Hour, Retain: sts.MaxTokenLifetime})
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	svc := sts.NewService(sts.Options{Directory: dir, Keys: keys, Store: st, Clock: aksid, Wall: wall, Random: rand.Reader})
	rev := New(Options{Validator: authn.New(keys, wall), Groups: dir, Apps: dir, Wall: wall, IssuerBases: []string{base}})
	return &env{t: t, dir: dir, sts: svc, wall: wall, rev: rev}
}

// token asks the token service as a client would, on aksid's URL
// (direct) or as Azure (through the proxy).
func (e *env) token(tenant string, v sts.Version, iss origin.Issuers, form url.Values) string {
	e.t.Helper()
	resp, err := e.sts.Token(context.Background(), &sts.TokenRequest{Tenant: tenant, Version: v, Form: form,
		Issuers: iss, LoginBases: []string{base}})
	if err != nil {
		e.t.Fatalf("token: %v", err)
	}
	return resp.AccessToken
}

var direct = origin.Issuers{V1Base: base, V2Base: base}

func (e *env) user(tenant, upn string) directory.User {
	e.t.Helper()
	u, err := e.dir.CreateUser(context.Background(), tenant, directory.UserSpec{UserPrincipalName: upn, DisplayName: upn, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// userForm is kubelogin ropc's request for the AKS server application.
func userForm(u directory.User) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {directory.AKSClientApp}, "username": {u.UserPrincipalName},
		"password": {password}, "scope": {directory.AKSServerApp + "/.default"}}
}

// app registers an application with a secret in tenant.
func (e *env) app(tenant string, spec directory.ApplicationSpec) (directory.Registration, string) {
	e.t.Helper()
	ctx := context.Background()
	reg, err := e.dir.CreateApplication(ctx, tenant, spec)
	if err != nil {
		e.t.Fatal(err)
	}
	pw, err := e.dir.AddPassword(ctx, reg.App.AppID, directory.PasswordSpec{DisplayName: "s"})
	if err != nil {
		e.t.Fatal(err)
	}
	return reg, pw.Secret
}

// spForm is a v1 client-credentials request for resource.
func spForm(appID, secret, resource string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "resource": {resource}}
}

var popKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// popJWK is the client's public key as kubelogin writes it, and its
// RFC 7638 thumbprint.
func popJWK() (jwk, kid string) {
	k := popKey()
	n := base64.RawURLEncoding.EncodeToString(k.N.Bytes())
	ex := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + ex + `","kty":"RSA","n":"` + n + `"}`))
	kid = base64.RawURLEncoding.EncodeToString(sum[:])
	return `{"e":"` + ex + `","kty":"RSA","n":"` + n + `","alg":"RS256","kid":"` + kid + `"}`, kid
}

// withPoP asks for a token bound to popKey (token_type=pop, req_cnf).
func withPoP(f url.Values) url.Values {
	_, kid := popJWK()
	f.Set("token_type", "pop")
	f.Set("req_cnf", base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"`+kid+`","xms_ksl":"sw"}`)))
	return f
}

// shr is the signed HTTP request kubelogin --pop-enabled hands kubectl.
func shr(at string, ts time.Time, u string) string {
	jwk, kid := popJWK()
	head := `{"typ":"pop","alg":"RS256","kid":"` + kid + `"}`
	body := fmt.Sprintf(`{"at":%q,"ts":%d,"u":%q,"cnf":{"jwk":%s},"nonce":"0123456789abcdef0123456789abcdef"}`, at, ts.Unix(), u, jwk)
	signing := base64.RawURLEncoding.EncodeToString([]byte(head)) + "." + base64.RawURLEncoding.EncodeToString([]byte(body))
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, popKey(), crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}
