package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
)

// TestUserinfoAnswersTheSignedInUser: Graph's /oidc/userinfo answers a
// user's token with the user's claims (sub the same pairwise one as the
// ID token's), by GET or POST, and refuses app tokens and bad tokens with
// Graph's 401.
func TestUserinfoAnswersTheSignedInUser(t *testing.T) {
	s := start(t)
	adm := s.admin
	s.must(t, 201, adm, "POST", "/v1.0/users", map[string]any{"accountEnabled": true, "displayName": "Ada Lovelace",
		"mailNickname": "ada", "userPrincipalName": "ada@aksid.local", "givenName": "Ada", "surname": "Lovelace",
		"mail": "ada@aksid.local", "passwordProfile": map[string]any{"password": "Secr3t-pass", "forceChangePasswordNextSignIn": false}})
	const azCLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	form := url.Values{"grant_type": {"password"}, "client_id": {azCLI}, "username": {"ada@aksid.local"}, "password": {"Secr3t-pass"},
		"scope": {"https://graph.microsoft.com/.default openid profile email"}}
	resp, err := s.client.PostForm(s.URL+"/organizations/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &tok) != nil || tok.IDToken == "" {
		t.Fatalf("user token: %d %s", resp.StatusCode, b)
	}
	var id struct {
		Sub string `json:"sub"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.IDToken, ".")[1])
	if json.Unmarshal(payload, &id) != nil || id.Sub == "" {
		t.Fatalf("ID token %s", payload)
	}
	for _, method := range []string{"GET", "POST"} {
		r := s.must(t, 200, tok.AccessToken, method, "/oidc/userinfo", nil)
		want := map[string]any{"sub": id.Sub, "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "email": "ada@aksid.local"}
		for k, v := range want {
			if r.m[k] != v {
				t.Errorf("%s: %s = %v, want %v (%s)", method, k, r.m[k], v, r.raw)
			}
		}
		if _, ok := r.m["oid"]; ok || len(r.m) != len(want) {
			t.Errorf("%s: claims beyond Entra's: %s", method, r.raw)
		}
	}
	for name, token := range map[string]string{"app token": adm, "bad token": "not-a-token", "no token": ""} {
		if r := s.must(t, 401, token, "GET", "/oidc/userinfo", nil); r.errCode() != "InvalidAuthenticationToken" || r.errMessage() == "" {
			t.Errorf("%s: %s", name, r.raw)
		}
	}
}
