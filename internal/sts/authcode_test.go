package sts

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
)

func errCode(err error) int {
	var se *Error
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "ada@" + testDomain, DisplayName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	sum := sha256.Sum256([]byte(verifier))
	scope := directory.AKSServerApp + "/.default openid offline_access profile"
	authz := AuthorizeRequest{TenantSeg: testTenant, Version: V2, ClientID: directory.AKSClientApp, ResponseType: "code",
		RedirectURI: "http://localhost:38123", ResponseMode: "form_post", Scope: scope, State: "s-1", Nonce: "n-1",
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256"}
	redeem := func(code, verifier, redirect string) (*TokenResponse, error) {
		return e.svc.Token(ctx, e.request(V2, testTenant, url.Values{"grant_type": {"authorization_code"}, "client_id": {directory.AKSClientApp},
			"code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirect}, "client_info": {"1"}, "scope": {scope}}))
	}

	p, err := e.svc.CheckAuthorize(ctx, authz)
	if err != nil || p.Redirect != authz.RedirectURI || p.ResponseMode != "form_post" || p.ClientName == "" {
		t.Fatalf("check: %+v %v", p, err)
	}
	if _, err := e.svc.Authorize(ctx, authz, user.UserPrincipalName, "wrong"); errCode(err) != 50126 {
		t.Fatalf("wrong password: %v", err)
	}
	code, err := e.svc.Authorize(ctx, authz, user.UserPrincipalName, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := redeem(code, verifier, authz.RedirectURI)
	if err != nil || resp.RefreshToken == "" || resp.IDToken == "" || resp.ClientInfo == "" {
		t.Fatalf("redeem: %+v %v", resp, err)
	}
	if c := e.claims(resp.AccessToken); c["oid"] != user.ObjectID || c["aud"] != directory.AKSServerApp {
		t.Fatalf("access token %v", c)
	}
	idc := e.claims(resp.IDToken)
	if idc["nonce"] != "n-1" || idc["aud"] != directory.AKSClientApp {
		t.Fatalf("ID token %v", idc)
	}
	if _, err := redeem(code, verifier, authz.RedirectURI); errCode(err) != 54005 {
		t.Fatalf("reused code: %v", err)
	}

	// Each refusal spends the code: nothing is issued and it cannot be retried.
	for _, tc := range []struct {
		name            string
		verifier, redir string
		want            int
	}{
		{"verifier mismatch", "not-the-verifier-not-the-verifier-not-the-verifier", authz.RedirectURI, 50148},
		{"no verifier", "", authz.RedirectURI, 50148},
		{"other redirect", verifier, "http://localhost:9999", 500112},
	} {
		code, err := e.svc.Authorize(ctx, authz, user.UserPrincipalName, "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := redeem(code, tc.verifier, tc.redir); errCode(err) != tc.want {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := redeem(code, verifier, authz.RedirectURI); errCode(err) != 54005 {
			t.Fatalf("%s: then the right request: %v", tc.name, err)
		}
	}
	if _, err := redeem("1.Amade-up", verifier, authz.RedirectURI); errCode(err) != 70000 {
		t.Fatalf("unknown code: %v", err)
	}
	late, err := e.svc.Authorize(ctx, authz, user.UserPrincipalName, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	e.aksid.SetOffset(11 * time.Minute)
	if _, err := redeem(late, verifier, authz.RedirectURI); errCode(err) != 70008 {
		t.Fatalf("expired code: %v", err)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	base := AuthorizeRequest{TenantSeg: testTenant, Version: V2, ClientID: directory.AKSClientApp, ResponseType: "code",
		RedirectURI: "http://localhost:1234", Scope: directory.AKSServerApp + "/.default"}
	for _, tc := range []struct {
		name     string
		edit     func(*AuthorizeRequest)
		want     int
		redirect bool // whether the error may go back to the client
	}{
		{"not loopback", func(a *AuthorizeRequest) { a.RedirectURI = "https://evil.example/cb" }, 50011, false},
		{"https loopback", func(a *AuthorizeRequest) { a.RedirectURI = "https://localhost:1234" }, 50011, false},
		{"unknown client", func(a *AuthorizeRequest) { a.ClientID = "0bd7c5b5-7cbc-4b4e-9a8f-7b1dd0b3b1f2" }, 700016, false},
		{"unknown tenant", func(a *AuthorizeRequest) { a.TenantSeg = "nowhere.example" }, 90002, false},
		{"token response type", func(a *AuthorizeRequest) { a.ResponseType = "token" }, 900131, true},
		{"bad challenge method", func(a *AuthorizeRequest) { a.CodeChallenge, a.CodeChallengeMethod = "x", "S512" }, 501491, true},
		{"silent", func(a *AuthorizeRequest) { a.Prompt = "none" }, 50058, true},
		{"no scope", func(a *AuthorizeRequest) { a.Scope = "" }, 900144, true},
	} {
		a := base
		tc.edit(&a)
		p, err := e.svc.CheckAuthorize(ctx, a)
		if errCode(err) != tc.want || (p.Redirect != "") != tc.redirect {
			t.Errorf("%s: %+v %v", tc.name, p, err)
		}
		if _, err := e.svc.Authorize(ctx, a, "nobody", "x"); errCode(err) != tc.want {
			t.Errorf("%s: Authorize went on: %v", tc.name, err)
		}
	}
	if n := countKind(t, e.st, kindAuthCode); n != 0 {
		t.Fatalf("%d codes stored for refused requests", n)
	}
}

func TestRedirectRules(t *testing.T) {
	public := directory.Application{AppID: "a", PublicClient: true}
	web := directory.Application{AppID: "b", Extra: directory.Extra{
		"web":          json.RawMessage(`{"redirectUris":["https://app.example/signin","http://localhost/cb"]}`),
		"publicClient": json.RawMessage(`{"redirectUris":["ms-appx-web://x"]}`)}}
	for _, tc := range []struct {
		app  directory.Application
		uri  string
		want bool
	}{
		{public, "http://localhost:5555", true},
		{public, "http://127.0.0.1:5555/callback", true},
		{public, "http://[::1]:5555", true},
		{public, "http://localhost.evil.example:5555", false},
		{public, "http://localhost:5555#frag", false},
		{web, "https://app.example/signin", true},
		{web, "https://app.example/signin/", false},
		{web, "http://localhost:7000/cb", true},
		{web, "http://localhost:7000/other", false},
		{web, "ms-appx-web://x", true},
		{web, "http://localhost:5555", false},
	} {
		if got := redirectAllowed(tc.app, tc.uri); got != tc.want {
			t.Errorf("%s for %s: %v", tc.uri, tc.app.AppID, got)
		}
	}
	if strings.Contains(errRedirectMismatch("u", "a").Error(), "%!") {
		t.Fatal("message format")
	}
}
