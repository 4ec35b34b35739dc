package sts

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"testing"

	"github.com/aksid/aksid/internal/directory"
)

// testKid is a thumbprint-shaped kid: 32 bytes in unpadded base64url.
var testKid = func() string {
	sum := sha256.Sum256([]byte("a client's public key"))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}()

func reqCnf(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

func withPoP(f url.Values, cnf string) url.Values {
	f.Set("token_type", "pop")
	f.Set("req_cnf", cnf)
	return f
}

// TestPoPEveryGrantBindsTheKey: client_credentials, password,
// refresh_token and device_code with token_type=pop all answer token_type pop and a cnf
// claim naming the key; a bearer request in the same session gets no cnf.
func TestPoPEveryGrantBindsTheKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cnf := reqCnf(`{"kid":"` + testKid + `","xms_ksl":"sw"}`)
	checkPoP := func(what string, resp *TokenResponse, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		c := e.claims(resp.AccessToken)
		got, _ := c["cnf"].(map[string]any)
		if resp.TokenType != "pop" || len(got) != 2 || got["kid"] != testKid || got["xms_ksl"] != "sw" {
			t.Fatalf("%s: token_type %q cnf %v", what, resp.TokenType, c["cnf"])
		}
	}
	for _, v := range []Version{V1, V2} {
		form := e.secretForm(directory.AKSServerApp+"/.default", V2)
		resp, err := e.svc.Token(ctx, e.request(v, testTenant, withPoP(form, cnf)))
		checkPoP("client_credentials", resp, err)
	}

	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "ada@" + testDomain, DisplayName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	pw := url.Values{"grant_type": {"password"}, "client_id": {directory.AKSClientApp}, "username": {user.UserPrincipalName},
		"password": {"correct horse"}, "scope": {directory.AKSServerApp + "/.default offline_access openid profile"}, "client_info": {"1"}}
	resp, err := e.svc.Token(ctx, e.request(V2, "organizations", withPoP(pw, cnf)))
	checkPoP("password", resp, err)
	if id := e.claims(resp.IDToken); id["cnf"] != nil {
		t.Fatalf("the ID token carries cnf: %v", id)
	}

	// Each request decides: the refresh token of a PoP session gives a
	// bearer token when asked for one, and a PoP one when asked again.
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {directory.AKSClientApp}, "refresh_token": {resp.RefreshToken}}
	bearer, err := e.svc.Token(ctx, e.request(V2, "organizations", refresh))
	if err != nil || bearer.TokenType != "Bearer" || e.claims(bearer.AccessToken)["cnf"] != nil {
		t.Fatalf("bearer refresh: %+v %v", bearer, err)
	}
	refresh.Set("refresh_token", bearer.RefreshToken)
	resp, err = e.svc.Token(ctx, e.request(V2, "organizations", withPoP(refresh, cnf)))
	checkPoP("refresh_token", resp, err)

	// The device code grant, polled with token_type=pop.
	dc, err := e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {directory.AKSServerApp + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ApproveDeviceCode(ctx, dc.UserCode, user.UserPrincipalName, "correct horse"); err != nil {
		t.Fatal(err)
	}
	poll := url.Values{"grant_type": {"device_code"}, "client_id": {directory.AKSClientApp}, "device_code": {dc.DeviceCode}}
	resp, err = e.svc.Token(ctx, e.request(V2, "organizations", withPoP(poll, cnf)))
	checkPoP("device_code", resp, err)

	// MSAL.js pads req_cnf; uhw (hardware key) is echoed as sent.
	padded := base64.URLEncoding.EncodeToString([]byte(`{"kid":"` + testKid + `","xms_ksl":"uhw"}`))
	resp, err = e.svc.Token(ctx, e.request(V2, testTenant, withPoP(e.secretForm(directory.AKSServerApp+"/.default", V2), padded)))
	if err != nil || e.claims(resp.AccessToken)["cnf"].(map[string]any)["xms_ksl"] != "uhw" {
		t.Fatalf("padded req_cnf with uhw: %+v %v", resp, err)
	}
}

// TestPoPMalformedRequestIssuesNothing: every malformed token_type or
// req_cnf is refused with AADSTS90100 (or 900144 when req_cnf is absent),
// and the refresh token presented with it is not spent.
func TestPoPMalformedRequestIssuesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := func(err error) int {
		var se *Error
		if errors.As(err, &se) && se.OAuth == "invalid_request" {
			return se.Code
		}
		return 0
	}
	cases := []struct {
		name, tokenType, cnf string
		want                 int
	}{
		{"unknown token_type", "mac", reqCnf(`{"kid":"` + testKid + `"}`), 90100},
		{"ssh-cert is not served", "ssh-cert", reqCnf(`{"kid":"` + testKid + `"}`), 90100},
		{"no req_cnf", "pop", "", 900144},
		{"not base64url", "pop", "eyJ+a2lk/Ij==", 90100},
		{"not JSON", "pop", reqCnf(`kid=` + testKid), 90100},
		{"JSON array", "pop", reqCnf(`["` + testKid + `"]`), 90100},
		{"no kid", "pop", reqCnf(`{"xms_ksl":"sw"}`), 90100},
		{"inline jwk instead of kid", "pop", reqCnf(`{"jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`), 90100},
		{"kid not base64url", "pop", reqCnf(`{"kid":"not a thumbprint at all, not even close!!"}`), 90100},
		{"kid of a SHA-1", "pop", reqCnf(`{"kid":"` + testKid[:27] + `"}`), 90100},
		{"kid padded", "pop", reqCnf(`{"kid":"` + testKid + `="}`), 90100},
		{"kid a number", "pop", reqCnf(`{"kid":12345}`), 90100},
		{"unknown key storage", "pop", reqCnf(`{"kid":"` + testKid + `","xms_ksl":"cloud"}`), 90100},
	}
	for _, c := range cases {
		form := e.secretForm(directory.AKSServerApp+"/.default", V2)
		form.Set("token_type", c.tokenType)
		if c.cnf != "" {
			form.Set("req_cnf", c.cnf)
		}
		resp, err := e.svc.Token(ctx, e.request(V2, testTenant, form))
		if resp != nil || code(err) != c.want {
			t.Errorf("%s: %+v %v, want AADSTS%d", c.name, resp, err, c.want)
		}
	}

	// token_type bearer, any case, is a plain request; req_cnf is ignored.
	form := e.secretForm(directory.AKSServerApp+"/.default", V2)
	form.Set("token_type", "bearer")
	form.Set("req_cnf", "garbage")
	if resp, err := e.svc.Token(ctx, e.request(V2, testTenant, form)); err != nil || resp.TokenType != "Bearer" {
		t.Fatalf("bearer request: %+v %v", resp, err)
	}

	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "bo@" + testDomain, DisplayName: "Bo", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	pw := url.Values{"grant_type": {"password"}, "client_id": {directory.AKSClientApp}, "username": {user.UserPrincipalName},
		"password": {"correct horse"}, "scope": {directory.AKSServerApp + "/.default offline_access"}}
	resp, err := e.svc.Token(ctx, e.request(V2, testTenant, pw))
	if err != nil {
		t.Fatal(err)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {directory.AKSClientApp}, "refresh_token": {resp.RefreshToken}}
	if _, err := e.svc.Token(ctx, e.request(V2, testTenant, withPoP(refresh, "!!"))); code(err) != 90100 {
		t.Fatalf("refresh with a bad req_cnf: %v", err)
	}
	refresh.Del("token_type")
	refresh.Del("req_cnf")
	if _, err := e.svc.Token(ctx, e.request(V2, testTenant, refresh)); err != nil {
		t.Fatalf("the refused request spent the refresh token: %v", err)
	}
}
