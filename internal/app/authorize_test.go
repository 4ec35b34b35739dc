package app

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAuthorizePageOverHTTP drives the browser sign-in endpoint as a
// browser would: the page for a good request, errors shown (never sent)
// for an untrusted redirect, sent back for a trusted one, a wrong password
// shown on the page, the form_post answer, and the code redeemed once.
func TestAuthorizePageOverHTTP(t *testing.T) {
	s := startTest(t)
	tid := s.Creds.TenantID
	noRedirect := *s.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	verifier := "a-verifier-that-is-long-enough-for-rfc-7636-rules-1234567"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"80faf920-1908-4b52-b5ef-a8e7bedfc67a"}, "response_type": {"code"}, "redirect_uri": {"http://localhost:41234"},
		"scope": {"6dae42f8-4368-4678-94ff-3960e28e3630/.default openid offline_access profile"}, "state": {"st<ate>"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "response_mode": {"form_post"}}
	authz := s.URL + "/" + tid + "/oauth2/v2.0/authorize"
	get := func(v url.Values) (*http.Response, string) {
		resp, err := noRedirect.Get(authz + "?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range q {
			c[kk] = vv
		}
		c.Set(k, v)
		return c
	}

	resp, page := get(q)
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(page, `id="password"`) || !strings.Contains(page, "Azure Kubernetes Service AAD Client") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self' http://localhost:41234") {
		t.Fatalf("sign-in page %d %q\n%s", resp.StatusCode, csp, page)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "src=") || strings.Contains(page, "href=") {
		t.Fatal("the sign-in page loads something")
	}

	// An untrusted redirect: the error stays on aksid's page.
	resp, page = get(with("redirect_uri", "https://attacker.example/cb"))
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, "AADSTS50011") || strings.Contains(page, "attacker.example/cb?") {
		t.Fatalf("untrusted redirect: %d %s", resp.StatusCode, page)
	}
	// A trusted redirect gets the error (query mode: a redirect).
	v := with("response_type", "token")
	v.Del("response_mode")
	resp, _ = get(v)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc == nil || loc.Host != "localhost:41234" || loc.Query().Get("error") != "unsupported_response_type" || loc.Query().Get("state") != "st<ate>" {
		t.Fatalf("error to a trusted redirect: %d %v", resp.StatusCode, loc)
	}

	// The person's answer: wrong password stays on the page.
	answer := func(user, pass, decision string) (int, string) {
		form := url.Values{"q": {q.Encode()}, "username": {user}, "password": {pass}, "decision": {decision}}
		resp, err := noRedirect.PostForm(authz, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, page := answer(s.Creds.AdminUPN, "wrong", "signin"); code != 200 || !strings.Contains(page, "AADSTS50126") || !strings.Contains(page, `id="password"`) {
		t.Fatalf("wrong password: %d %s", code, page)
	}
	if code, page := answer(s.Creds.AdminUPN, s.Creds.AdminPassword, "signin"); code != 200 || strings.Contains(page, s.Creds.AdminPassword) {
		t.Fatalf("sign-in: %d", code)
	} else {
		m := regexp.MustCompile(`name="code" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, `action="http://localhost:41234"`) || !strings.Contains(page, `name="state" value="st&lt;ate&gt;"`) {
			t.Fatalf("form_post page:\n%s", page)
		}
		redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {q.Get("client_id")}, "code": {m[1]},
			"redirect_uri": {q.Get("redirect_uri")}, "code_verifier": {verifier}, "scope": {q.Get("scope")}}
		if code, body, raw := s.post(t, "/"+tid+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", redeem.Encode()); code != 200 || body["id_token"] == nil {
			t.Fatalf("redeem: %d %s", code, raw)
		}
		if code, body, _ := s.post(t, "/"+tid+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", redeem.Encode()); code != 400 || errorCode(body) != 54005 {
			t.Fatalf("second redeem: %d %v", code, body)
		}
	}
	if code, page := answer("", "", "cancel"); code != 200 || !strings.Contains(page, `name="error" value="access_denied"`) {
		t.Fatalf("cancel: %d %s", code, page)
	}
}

func errorCode(m map[string]any) int {
	codes, _ := m["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	f, _ := codes[0].(float64)
	return int(f)
}
