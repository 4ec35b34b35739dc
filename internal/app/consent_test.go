package app

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsentPromptsOverHTTP drives both sign-in pages as a browser would
// for a tenant's own public client that asks ARM's user_impersonation:
// the token endpoint refuses it (AADSTS65001) until someone consents; the
// administrator's consent on the browser page, for the organization, is an
// AllPrincipals grant and the code's token carries the scope; on the
// device page, cancelling the prompt tells the device.
func TestConsentPromptsOverHTTP(t *testing.T) {
	s := startTest(t)
	tid := s.Creds.TenantID
	noRedirect := *s.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	graphTok := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://graph.microsoft.com/.default")
	graph := func(method, path, body string) map[string]any {
		t.Helper()
		st, m, raw := s.arm(t, graphTok, method, path, body)
		if st/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, st, raw)
		}
		return m
	}
	app := graph("POST", "/v1.0/applications", `{"displayName":"orders-cli","isFallbackPublicClient":true,
		"publicClient":{"redirectUris":["http://localhost"]},
		"requiredResourceAccess":[{"resourceAppId":"797f4846-ba00-4fd7-ba43-dac1f8f63013","resourceAccess":[{"id":"41094075-9dad-400e-a0bd-54e686782033","type":"Scope"}]}]}`)
	clientID := app["appId"].(string)
	graph("POST", "/v1.0/servicePrincipals", `{"appId":"`+clientID+`"}`)
	tokenURL := "/" + tid + "/oauth2/v2.0/token"
	form := "application/x-www-form-urlencoded"

	ropc := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {s.Creds.AdminUPN},
		"password": {s.Creds.AdminPassword}, "scope": {"https://management.azure.com/.default"}}
	if st, body, raw := s.post(t, tokenURL, form, ropc.Encode()); st != 400 || errorCode(body) != 65001 || body["suberror"] != "consent_required" ||
		!strings.Contains(raw, "named 'orders-cli'") {
		t.Fatalf("password grant without consent: %d %s", st, raw)
	}

	// The browser page: sign in, then the prompt.
	authz := s.URL + "/" + tid + "/oauth2/v2.0/authorize"
	q := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {"http://localhost:41234"},
		"scope": {"https://management.azure.com/user_impersonation openid"}, "state": {"s1"}}
	post := func(c *http.Client, to string, v url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := c.PostForm(to, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	flowOf := func(page string) string {
		t.Helper()
		m := regexp.MustCompile(`name="consentflow" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no consent prompt:\n%s", page)
		}
		return m[1]
	}
	_, page := post(&noRedirect, authz, url.Values{"q": {q.Encode()}, "username": {s.Creds.AdminUPN}, "password": {s.Creds.AdminPassword}, "decision": {"signin"}})
	if !strings.Contains(page, "Permissions requested") || !strings.Contains(page, "(user_impersonation)") ||
		!strings.Contains(page, `name="everyone"`) || strings.Contains(page, "<script") {
		t.Fatalf("prompt page:\n%s", page)
	}
	resp, _ := post(&noRedirect, authz, url.Values{"q": {q.Encode()}, "consentflow": {flowOf(page)}, "decision": {"accept"}, "everyone": {"on"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("accept: %d %v", resp.StatusCode, loc)
	}
	redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {loc.Query().Get("code")},
		"redirect_uri": {q.Get("redirect_uri")}}
	st, body, raw := s.post(t, tokenURL, form, redeem.Encode())
	if st != 200 || jwtClaims(t, body["access_token"].(string))["scp"] != "user_impersonation" {
		t.Fatalf("redeem: %d %s", st, raw)
	}
	grants := graph("GET", "/v1.0/oauth2PermissionGrants", "")["value"].([]any)
	if len(grants) != 1 || grants[0].(map[string]any)["consentType"] != "AllPrincipals" || grants[0].(map[string]any)["scope"] != "user_impersonation" {
		t.Fatalf("grants after the administrator's consent: %v", grants)
	}
	if st, _, raw := s.post(t, tokenURL, form, ropc.Encode()); st != 200 {
		t.Fatalf("password grant after consent: %d %s", st, raw)
	}

	// The device page: a second API the client now asks; cancel at the prompt.
	graph("PATCH", "/v1.0/applications/"+app["id"].(string), `{"requiredResourceAccess":[{"resourceAppId":"797f4846-ba00-4fd7-ba43-dac1f8f63013","resourceAccess":[{"id":"41094075-9dad-400e-a0bd-54e686782033","type":"Scope"}]},
		{"resourceAppId":"00000003-0000-0000-c000-000000000000","resourceAccess":[{"id":"e1fe6dd8-ba31-4d61-89e7-88639da4683d","type":"Scope"}]}]}`)
	st, dc, raw := s.post(t, "/"+tid+"/oauth2/v2.0/devicecode", form, url.Values{"client_id": {clientID}, "scope": {"https://graph.microsoft.com/.default"}}.Encode())
	if st != 200 {
		t.Fatalf("devicecode: %d %s", st, raw)
	}
	otc := dc["user_code"].(string)
	_, page = post(s.client, s.URL+"/devicelogin", url.Values{"otc": {otc}, "username": {s.Creds.AdminUPN}, "password": {s.Creds.AdminPassword}, "decision": {"approve"}})
	if !strings.Contains(page, "(User.Read)") || !strings.Contains(page, `name="otc" value="`+otc+`"`) {
		t.Fatalf("device prompt:\n%s", page)
	}
	if _, page = post(s.client, s.URL+"/devicelogin", url.Values{"otc": {otc}, "consentflow": {flowOf(page)}, "decision": {"cancel"}}); !strings.Contains(page, "Sign-in canceled") {
		t.Fatalf("cancel:\n%s", page)
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {clientID}, "device_code": {dc["device_code"].(string)}}
	if st, body, raw := s.post(t, tokenURL, form, poll.Encode()); st != 400 || errorCode(body) != 70023 {
		t.Fatalf("poll after the prompt was cancelled: %d %s", st, raw)
	}
}
