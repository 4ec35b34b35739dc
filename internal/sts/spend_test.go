package sts

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// Whatever a grant spends (a refresh token, a code, a device code, an
// assertion's jti) is spent only once the client is authenticated and the
// request found good: a refused request leaves it for the right one.

// confidentialWeb registers a confidential client with a web redirect URI
// and a secret, as a web app signing users in.
func confidentialWeb(t *testing.T, e *testEnv) (directory.Application, string) {
	t.Helper()
	ctx := context.Background()
	reg, err := e.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "web",
		Extra: directory.Extra{"web": json.RawMessage(`{"redirectUris":["https://app.example/signin"]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	np, err := e.dir.AddPassword(ctx, reg.App.AppID, directory.PasswordSpec{DisplayName: "web"})
	if err != nil {
		t.Fatal(err)
	}
	return reg.App, np.Secret
}

// consentAll records an administrator's consent for every user: client
// may use scopes on resource.
func consentAll(t *testing.T, e *testEnv, clientAppID, resourceAppID string, scopes ...string) {
	t.Helper()
	if err := e.dir.GrantConsent(context.Background(), testTenant, clientAppID, resourceAppID, "", scopes, true); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshTokenSurvivesFailedRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "ada@" + testDomain, DisplayName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	consentAll(t, e, e.app.AppID, directory.AKSServerApp, "user.read")
	scope := directory.AKSServerApp + "/.default openid offline_access"
	resp, err := e.svc.Token(ctx, e.request(V2, testTenant, url.Values{"grant_type": {"password"}, "client_id": {e.app.AppID},
		"client_secret": {e.secret}, "username": {user.UserPrincipalName}, "password": {"correct horse"}, "scope": {scope}}))
	if err != nil || resp.RefreshToken == "" {
		t.Fatalf("sign-in: %+v %v", resp, err)
	}
	rt := resp.RefreshToken
	refresh := func(kv ...string) (*TokenResponse, error) {
		f := url.Values{"grant_type": {"refresh_token"}, "client_id": {e.app.AppID}, "client_secret": {e.secret},
			"refresh_token": {rt}, "scope": {scope}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return e.svc.Token(ctx, e.request(V2, testTenant, f))
	}
	for _, tc := range []struct {
		name string
		kv   []string
		want int
	}{
		{"wrong secret", []string{"client_secret", "abc8Q~wrong"}, 7000215},
		{"no secret", []string{"client_secret", ""}, 7000218},
		{"unknown resource", []string{"scope", "https://nothing.example/.default offline_access"}, 500011},
	} {
		if _, err := refresh(tc.kv...); errCode(err) != tc.want {
			t.Fatalf("%s: %v, want AADSTS%d", tc.name, err, tc.want)
		}
		if n := countKind(t, e.st, kindRefreshToken); n != 1 {
			t.Fatalf("%s: %d refresh tokens stored, want the one", tc.name, n)
		}
	}
	resp, err = refresh()
	if err != nil || resp.RefreshToken == "" {
		t.Fatalf("the right refresh after refused ones: %+v %v", resp, err)
	}
	if _, err := refresh(); errCode(err) != 9002313 {
		t.Fatalf("a spent refresh token worked again: %v", err)
	}
}

func TestAuthCodeSurvivesWrongSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "ada@" + testDomain, DisplayName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	app, secret := confidentialWeb(t, e)
	consentAll(t, e, app.AppID, directory.AKSServerApp, "user.read")
	authz := AuthorizeRequest{TenantSeg: testTenant, Version: V2, ClientID: app.AppID, ResponseType: "code",
		RedirectURI: "https://app.example/signin", Scope: directory.AKSServerApp + "/.default openid offline_access"}
	code, err := e.svc.Authorize(ctx, authz, user.UserPrincipalName, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	redeem := func(secret string) (*TokenResponse, error) {
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {app.AppID}, "code": {code}, "redirect_uri": {authz.RedirectURI}}
		if secret != "" {
			f.Set("client_secret", secret)
		}
		return e.svc.Token(ctx, e.request(V2, testTenant, f))
	}
	if _, err := redeem("abc8Q~wrong"); errCode(err) != 7000215 {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := redeem(""); errCode(err) != 7000218 {
		t.Fatalf("no secret: %v", err)
	}
	resp, err := redeem(secret)
	if err != nil || resp.AccessToken == "" {
		t.Fatalf("the right redemption after refused ones: %+v %v", resp, err)
	}
	if _, err := redeem(secret); errCode(err) != 54005 {
		t.Fatalf("a redeemed code worked again: %v", err)
	}
}

func TestDeviceCodePolledByAnotherClientStaysForItsOwn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "ada@" + testDomain, DisplayName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := e.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "other", PublicClient: true})
	if err != nil {
		t.Fatal(err)
	}
	scope := directory.AKSServerApp + "/.default offline_access openid"
	dc, err := e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	poll := func(clientID string) (*TokenResponse, error) {
		return e.svc.Token(ctx, e.request(V2, "organizations", url.Values{"grant_type": {"device_code"}, "client_id": {clientID},
			"device_code": {dc.DeviceCode}}))
	}
	if _, err := poll(reg.App.AppID); errCode(err) != 70019 {
		t.Fatalf("another client while pending: %v", err)
	}
	if err := e.svc.ApproveDeviceCode(ctx, dc.UserCode, user.UserPrincipalName, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if _, err := poll(reg.App.AppID); errCode(err) != 70019 {
		t.Fatalf("another client once approved: %v", err)
	}
	resp, err := poll(directory.AKSClientApp)
	if err != nil || resp.AccessToken == "" {
		t.Fatalf("the rightful client after another's poll: %+v %v", resp, err)
	}
	if _, err := poll(directory.AKSClientApp); errCode(err) != 70019 {
		t.Fatalf("a spent device code worked again: %v", err)
	}
}

// TestOneAssertionServesEveryScope: MSAL signs one client assertion and
// presents it for each scope it asks for while it is valid, and Entra
// accepts it each time; nothing of it is recorded.
func TestOneAssertionServesEveryScope(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := e.wall.Now()
	cert, key := newCert(t, now)
	if _, err := e.dir.AddCertificate(ctx, e.app.AppID, "ci", cert); err != nil {
		t.Fatal(err)
	}
	assertion := signAssertion(t, key, cert, assertionOpts{alg: jose.RS256, aud: testBase + "/" + testTenant + "/oauth2/v2.0/token",
		iss: e.app.AppID, nbf: now, exp: now.Add(10 * time.Minute), jti: uuid.NewString()})
	form := func(scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {e.app.AppID},
			"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {assertion}, "scope": {scope}}
	}
	if _, err := e.svc.Token(ctx, e.request(V2, testTenant, form("https://nothing.example/.default"))); errCode(err) != 500011 {
		t.Fatalf("unknown resource: %v", err)
	}
	for _, scope := range []string{directory.AKSServerApp + "/.default", "https://management.azure.com/.default", directory.AKSServerApp + "/.default"} {
		if _, err := e.svc.Token(ctx, e.request(V2, testTenant, form(scope))); err != nil {
			t.Fatalf("the same assertion for %s: %v", scope, err)
		}
	}
	if n := countKind(t, e.st, kindAssertionJTI); n != 0 {
		t.Fatalf("%d replay records written", n)
	}
}

// TestResourceNotFoundNamesTenantAsAsked: Entra names the tenant in
// AADSTS500011 as the request did (its GUID or the domain used), not by
// display name.
func TestResourceNotFoundNamesTenantAsAsked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, seg := range []string{testTenant, testDomain} {
		_, err := e.svc.Token(ctx, e.request(V2, seg, e.secretForm("https://nothing.example/.default", V2)))
		if errCode(err) != 500011 || !strings.Contains(err.Error(), "was not found in the tenant named "+seg+".") {
			t.Fatalf("at %s: %v", seg, err)
		}
	}
}
