package sts

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
)

const (
	testTenant = "11111111-2222-3333-4444-555555555555"
	testDomain = "contoso.test"
	testBase   = "https://127.0.0.1:8443"
)

// manualClock is a settable clock for deterministic tests.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (m *manualClock) Now() time.Time { m.mu.Lock(); defer m.mu.Unlock(); return m.t }
func (m *manualClock) Add(d time.Duration) {
	m.mu.Lock()
	m.t = m.t.Add(d)
	m.mu.Unlock()
}

type testEnv struct {
	t      *testing.T
	st     store.Store
	dir    *directory.Directory
	keys   *Keys
	svc    *Service
	aksid  *clock.Virtual
	wall   *manualClock
	app    directory.Application
	sp     directory.ServicePrincipal
	secret string
}

// keysFor shares one generated key set across tests that do not rotate,
// because RSA key generation dominates otherwise.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wall := &manualClock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	aksid := clock.NewVirtual(wall, 0)
	dir := directory.New(st, aksid, rand.Reader)
	if err := dir.EnsureTenant(ctx, directory.Tenant{ID: testTenant, DisplayName: "Contoso", DefaultDomain: testDomain, Domains: []string{testDomain}}); err != nil {
		t.Fatal(err)
	}
	if err := dir.EnsureFirstParty(ctx, testTenant); err != nil {
		t.Fatal(err)
	}
	reg, err := dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "ci-deployer"})
	app, sp := reg.App, reg.SP
	if err != nil {
		t.Fatal(err)
	}
	np, err := dir.AddPassword(ctx, app.AppID, directory.PasswordSpec{DisplayName: "rbac"})
	secret := np.Secret
	if err != nil {
		t.Fatal(err)
	}
	kr, _ := keyring.Random()
	keys := NewKeys(st, kr, wall, KeyOptions{Period: time.Hour, Retain: MaxTokenLifetime})
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	svc := NewService(Options{Directory: dir, Keys: keys, Store: st, Clock: aksid, Wall: wall, Random: rand.Reader})
	return &testEnv{t: t, st: st, dir: dir, keys: keys, svc: svc, aksid: aksid, wall: wall, app: app, sp: sp, secret: secret}
}

func (e *testEnv) request(v Version, tenant string, form url.Values) *TokenRequest {
	return &TokenRequest{Tenant: tenant, Version: v, Form: form,
		Issuers: origin.Issuers{V1Base: testBase, V2Base: testBase}, LoginBases: []string{testBase}}
}

func (e *testEnv) secretForm(scopeOrResource string, v Version) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.app.AppID}, "client_secret": {e.secret}}
	if v == V1 {
		f.Set("resource", scopeOrResource)
	} else {
		f.Set("scope", scopeOrResource)
	}
	return f
}

// claims decodes a JWT payload after checking its signature with the
// published key named in its header.
func (e *testEnv) claims(tok string) map[string]any {
	e.t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		e.t.Fatalf("not a JWS: %q", tok)
	}
	var hdr struct{ Kid, Alg, X5t, Typ string }
	b, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(b, &hdr); err != nil {
		e.t.Fatal(err)
	}
	if hdr.Alg != "RS256" || hdr.Typ != "JWT" || hdr.Kid == "" || hdr.X5t != hdr.Kid {
		e.t.Fatalf("header %+v", hdr)
	}
	pub, ok := e.keys.PublicKey(hdr.Kid)
	if !ok {
		e.t.Fatalf("kid %s not published", hdr.Kid)
	}
	if err := verifyRS256(pub, parts); err != nil {
		e.t.Fatalf("signature: %v", err)
	}
	var c map[string]any
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(p, &c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// newCert makes a self-signed RSA certificate valid around now.
func newCert(t *testing.T, now time.Time) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func countKind(t *testing.T, st store.Store, kind string) int {
	t.Helper()
	n := 0
	err := st.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
		items, err := tx.List(kind, "")
		n = len(items)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
