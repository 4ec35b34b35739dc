package sts

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
)

func TestClientSecretTokenV2EndpointGivesV1TokenForARM(t *testing.T) {
	e := newEnv(t)
	form := e.secretForm("https://management.core.windows.net//.default openid offline_access profile", V2)
	form.Set("client_info", "1")
	resp, err := e.svc.Token(context.Background(), e.request(V2, testTenant, form))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ExpiresIn != 3599 || resp.ExtExpiresIn != 3599 || resp.TokenType != "Bearer" {
		t.Fatalf("response %+v", resp)
	}
	c := e.claims(resp.AccessToken)
	now := e.wall.Now().Unix()
	want := map[string]any{
		"aud": "https://management.core.windows.net/", "iss": testBase + "/" + testTenant + "/", "ver": "1.0",
		"appid": e.app.AppID, "appidacr": "1", "idtyp": "app", "oid": e.sp.ObjectID, "sub": e.sp.ObjectID,
		"tid": testTenant, "idp": testBase + "/" + testTenant + "/",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if c["iat"].(float64) != float64(now-300) || c["nbf"].(float64) != float64(now-300) || c["exp"].(float64) != float64(now+3599) {
		t.Errorf("times iat=%v nbf=%v exp=%v now=%d", c["iat"], c["nbf"], c["exp"], now)
	}
	for _, k := range []string{"uti", "aio", "rh"} {
		if s, _ := c[k].(string); s == "" {
			t.Errorf("claim %s missing", k)
		}
	}
	if _, ok := c["azp"]; ok {
		t.Error("v1 token carries azp")
	}
}

func TestV1EndpointAKSServerAudienceIsResourceAsSent(t *testing.T) {
	e := newEnv(t)
	resp, err := e.svc.Token(context.Background(), e.request(V1, testDomain, e.secretForm(directory.AKSServerApp, V1)))
	if err != nil {
		t.Fatal(err)
	}
	c := e.claims(resp.AccessToken)
	if c["aud"] != directory.AKSServerApp || c["tid"] != testTenant || c["ver"] != "1.0" {
		t.Fatalf("claims %v", c)
	}
	if resp.Resource != directory.AKSServerApp || resp.ExpiresOn != int64(c["exp"].(float64)) || resp.NotBefore != int64(c["nbf"].(float64)) {
		t.Fatalf("v1 fields %+v", resp)
	}
}

func TestResourceAcceptingV2GetsV2TokenFromV1Endpoint(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, err := e.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "api",
		IdentifierURIs: []string{"api://orders"}, AccessTokenAcceptedVersion: 2})
	if err != nil {
		t.Fatal(err)
	}
	api := reg.App
	resp, err := e.svc.Token(ctx, e.request(V1, testTenant, e.secretForm("api://orders", V1)))
	if err != nil {
		t.Fatal(err)
	}
	c := e.claims(resp.AccessToken)
	if c["ver"] != "2.0" || c["aud"] != api.AppID || c["iss"] != testBase+"/"+testTenant+"/v2.0" ||
		c["azp"] != e.app.AppID || c["azpacr"] != "1" || c["appid"] != nil {
		t.Fatalf("claims %v", c)
	}
}

func TestCAELifetimeOnlyForResourcesThatSupportIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	claims := `{"access_token":{"xms_cc":{"values":["CP1"]}}}`
	form := e.secretForm("https://management.azure.com/.default", V2)
	form.Set("claims", claims)
	resp, err := e.svc.Token(ctx, e.request(V2, testTenant, form))
	if err != nil || resp.ExpiresIn != 86399 {
		t.Fatalf("ARM with CP1: %+v %v", resp, err)
	}
	form = e.secretForm(directory.AKSServerApp+"/.default", V2)
	form.Set("claims", claims)
	resp, err = e.svc.Token(ctx, e.request(V2, testTenant, form))
	if err != nil || resp.ExpiresIn != 3599 {
		t.Fatalf("AKS with CP1: %+v %v", resp, err)
	}
}

func TestBasicAuthSecret(t *testing.T) {
	e := newEnv(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {directory.AKSServerApp + "/.default"}}
	req := e.request(V2, testTenant, form)
	req.BasicID, req.BasicPass = e.app.AppID, e.secret
	if _, err := e.svc.Token(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	req.BasicPass = "nope"
	var se *Error
	if _, err := e.svc.Token(context.Background(), req); !errors.As(err, &se) || se.Code != 7000215 {
		t.Fatalf("wrong basic secret: %v", err)
	}
}

func TestSecretExpiresOnAksidClockNotWall(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	form := e.secretForm(directory.AKSServerApp+"/.default", V2)
	e.aksid.SetOffset(366 * 24 * time.Hour)
	var se *Error
	if _, err := e.svc.Token(ctx, e.request(V2, testTenant, form)); !errors.As(err, &se) || se.Code != 7000222 || se.OAuth != "invalid_client" {
		t.Fatalf("expired secret: %v", err)
	}
	// A secret made after the move lives a year of aksid's time, and its
	// token is still in the clients' (wall) frame.
	np, err := e.dir.AddPassword(ctx, e.app.AppID, directory.PasswordSpec{})
	fresh := np.Secret
	if err != nil {
		t.Fatal(err)
	}
	form.Set("client_secret", fresh)
	resp, err := e.svc.Token(ctx, e.request(V2, testTenant, form))
	if err != nil {
		t.Fatal(err)
	}
	if exp := int64(e.claims(resp.AccessToken)["exp"].(float64)); exp != e.wall.Now().Unix()+3599 {
		t.Fatalf("token exp %d not in wall frame (%d)", exp, e.wall.Now().Unix())
	}
}
