package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

const azCLIClient = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

// TestOneTimeRedemptionAcrossReplicas: an authorization code, a device
// code and a refresh token, each redeemed 8 times at once, the requests
// spread over two replicas on one PostgreSQL: exactly one redemption
// succeeds, the others are refused with Entra's codes. The device code is
// asked for on one replica and approved on the other's page.
func TestOneTimeRedemptionAcrossReplicas(t *testing.T) {
	url0 := postgresURL(t)
	dataDir := t.TempDir()
	a := start(t, dataDir, "--store", url0)
	b := start(t, dataDir, "--store", url0)
	replicas := []*instance{a, b}
	tid := a.env["AZURE_TENANT_ID"]
	user := adminUser(t, a)

	redeem := func(form url.Values, refused ...int) {
		t.Helper()
		var mu sync.Mutex
		var wins int
		var wrong []string
		var wg sync.WaitGroup
		for i := range 8 {
			in := replicas[i%2]
			wg.Go(func() {
				resp, err := in.client.PostForm(in.url+"/"+tid+"/oauth2/v2.0/token", form)
				if err != nil {
					mu.Lock()
					wrong = append(wrong, err.Error())
					mu.Unlock()
					return
				}
				defer resp.Body.Close()
				var m map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&m)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case resp.StatusCode == 200 && m["access_token"] != nil:
					wins++
				case resp.StatusCode == 400 && slices.Contains(refused, errorCode(m)):
				default:
					wrong = append(wrong, fmt.Sprintf("%s %v", resp.Status, m))
				}
			})
		}
		wg.Wait()
		if wins != 1 || len(wrong) > 0 {
			t.Fatalf("%s: %d successes of 8 (want 1), unexpected answers %q", form.Get("grant_type"), wins, wrong)
		}
	}

	// A refresh token from the password grant.
	st, m := a.postToken(t, tid, url.Values{"grant_type": {"password"}, "client_id": {aksClientApp}, "username": {user.upn},
		"password": {user.password}, "scope": {aksServerApp + "/.default offline_access openid"}})
	rt, _ := m["refresh_token"].(string)
	if st != 200 || rt == "" {
		t.Fatalf("password grant: %d %v", st, m)
	}
	redeem(url.Values{"grant_type": {"refresh_token"}, "client_id": {aksClientApp}, "refresh_token": {rt}}, 9002313)

	// An authorization code from the sign-in page (PKCE, as az does).
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://localhost:8400"
	q := url.Values{"client_id": {azCLIClient}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"https://management.azure.com/.default offline_access openid"}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	noRedirect := &http.Client{Transport: a.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(a.url+"/"+tid+"/oauth2/v2.0/authorize", url.Values{"q": {q.Encode()},
		"username": {user.upn}, "password": {user.password}, "decision": {"signin"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	code := ""
	if err == nil {
		code = loc.Query().Get("code")
	}
	if resp.StatusCode/100 != 3 || code == "" {
		t.Fatalf("sign-in page: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	redeem(url.Values{"grant_type": {"authorization_code"}, "client_id": {azCLIClient}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier}}, 54005, 70008)

	// A device code asked for on a, its user code entered on b's page.
	resp, err = a.client.PostForm(a.url+"/"+tid+"/oauth2/v2.0/devicecode", url.Values{"client_id": {aksClientApp},
		"scope": {aksServerApp + "/.default offline_access openid"}})
	if err != nil {
		t.Fatal(err)
	}
	var dc struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	err = json.NewDecoder(resp.Body).Decode(&dc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || dc.DeviceCode == "" || dc.UserCode == "" {
		t.Fatalf("device code: %s %v %+v", resp.Status, err, dc)
	}
	resp, err = b.client.PostForm(b.url+"/devicelogin", url.Values{"otc": {dc.UserCode}, "username": {user.upn},
		"password": {user.password}, "decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "You have signed in") {
		t.Fatalf("device sign-in page: %s\n%s", resp.Status, page)
	}
	redeem(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {aksClientApp},
		"device_code": {dc.DeviceCode}}, 70019)
}
