package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testIssuer is an outside OIDC issuer on loopback https (a CI system's,
// say), owned by the test so it can sign what a real one would not.
type testIssuer struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	fetches atomic.Int32
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ti := &testIssuer{key: key}
	ti.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ti.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/ci/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": ti.url(), "jwks_uri": ti.srv.URL + "/ci/keys",
				"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
		case "/ci/keys":
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "ci-1", Algorithm: "RS256", Use: "sig"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) url() string { return ti.srv.URL + "/ci" }

type ciToken struct {
	key      *rsa.PrivateKey
	kid      string
	iss, sub string
	aud      string
	iat, exp time.Time
}

func (ti *testIssuer) token(t *testing.T, sub string, edit func(*ciToken)) string {
	t.Helper()
	now := time.Now()
	o := ciToken{key: ti.key, kid: "ci-1", iss: ti.url(), sub: sub, aud: "api://AzureADTokenExchange", iat: now, exp: now.Add(10 * time.Minute)}
	if edit != nil {
		edit(&o)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: o.key, KeyID: o.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: o.iss, Subject: o.sub, Audience: jwt.Audience{o.aud},
		IssuedAt: jwt.NewNumericDate(o.iat), NotBefore: jwt.NewNumericDate(o.iat), Expiry: jwt.NewNumericDate(o.exp)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWorkloadIdentityForAppRegistration: an app registration trusts an
// outside issuer on loopback https through a federated credential made
// with `az ad app federated-credential create`; azidentity's
// ClientAssertionCredential and WorkloadIdentityCredential get the app's
// token, which Kubernetes accepts as its service principal. Expired,
// unknown-key, forged, wrong-issuer, wrong-subject and wrong-audience
// tokens get Entra's codes.
func TestWorkloadIdentityForAppRegistration(t *testing.T) {
	ti := newTestIssuer(t)
	// aksid trusts the system roots (here: the issuer's certificate) and its own CA.
	caFile := filepath.Join(t.TempDir(), "issuer.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ti.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", caFile)
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	az := newAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	var app struct{ AppID, ID string }
	az.json(&app, "ad", "app", "create", "--display-name", "ci-deployer")
	spOID := az.ok("ad", "sp", "create", "--id", app.AppID, "--query", "id", "-o", "tsv")
	params := filepath.Join(t.TempDir(), "credential.json")
	b, _ := json.Marshal(map[string]any{"name": "ci-main", "issuer": ti.url(), "subject": "repo:contoso/app:ref:refs/heads/main",
		"description": "CI on main", "audiences": []string{"api://AzureADTokenExchange"}})
	if err := os.WriteFile(params, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var fic struct{ ID, Name, Issuer string }
	az.json(&fic, "ad", "app", "federated-credential", "create", "--id", app.AppID, "--parameters", params)
	if fic.ID == "" || fic.Name != "ci-main" || fic.Issuer != ti.url() {
		t.Fatalf("federated-credential create: %+v", fic)
	}
	if n := az.ok("ad", "app", "federated-credential", "list", "--id", app.AppID, "--query", "length(@)"); n != "1" {
		t.Fatalf("federated-credential list: %s", n)
	}
	sub := "repo:contoso/app:ref:refs/heads/main"
	kube := newKubeAuthenticator(t, in)

	// ClientAssertionCredential: the callback hands over the CI token.
	assertCred, err := azidentity.NewClientAssertionCredential(tid, app.AppID, func(context.Context) (string, error) {
		return ti.token(t, sub, nil), nil
	}, &azidentity.ClientAssertionCredentialOptions{ClientOptions: in.azOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := assertCred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{aksServerApp + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, tok.Token); c["appid"] != app.AppID || c["oid"] != spOID || c["appidacr"] != "2" || c["xms_mirid"] != nil {
		t.Fatalf("claims %v", c)
	}
	kube.expectUser(t, tok.Token, spOID)

	// WorkloadIdentityCredential reads the same kind of token from a file.
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(ti.token(t, sub, nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	wl, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: in.azOptions(),
		ClientID: app.AppID, TenantID: tid, TokenFilePath: file, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = wl.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{aksServerApp + "/.default"}}); err != nil {
		t.Fatal(err)
	}
	kube.expectUser(t, tok.Token, spOID)

	// Refusals over HTTP. The issuer's keys stay cached: an unknown kid
	// refetches them only when the last fetch is over 10 s old.
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	before := ti.fetches.Load()
	for _, tc := range []struct {
		name string
		edit func(*ciToken)
		code int
	}{
		{"expired", func(o *ciToken) { o.iat, o.exp = time.Now().Add(-time.Hour), time.Now().Add(-30*time.Minute) }, 700024},
		{"forged signature", func(o *ciToken) { o.key = otherKey }, 50013},
		{"wrong subject", func(o *ciToken) { o.sub = "repo:contoso/app:pull_request" }, 700213},
		{"wrong audience", func(o *ciToken) { o.aud = "api://AzureADTokenExchangeChina" }, 700212},
		{"wrong issuer", func(o *ciToken) { o.iss = ti.srv.URL + "/other" }, 700211},
		{"unknown key", func(o *ciToken) { o.key, o.kid = otherKey, "ci-2" }, 50013},
	} {
		st, m := in.assertionToken(app.AppID, ti.token(t, sub, tc.edit))
		if st != 401 || m["error"] != "invalid_client" || errorCode(m) != tc.code || m["access_token"] != nil ||
			!strings.HasPrefix(m["error_description"].(string), "AADSTS") {
			t.Fatalf("%s: %d %v", tc.name, st, m)
		}
	}
	if n := ti.fetches.Load() - before; n != 0 {
		t.Fatalf("issuer fetched %d times for the refusals, want none (cached)", n)
	}
}
