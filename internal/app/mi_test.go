package app

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/admin"
)

// TestManagedIdentityEndpointRefusals sends bad requests to both forms of
// the managed-identity endpoint (IMDS through the plain proxy port, App
// Service on it and on the HTTPS listener) and checks each gets its
// status and error, no token, never a 5xx or an internal detail.
func TestManagedIdentityEndpointRefusals(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	if _, err := s.Ops.CreateHost(ctx, admin.HostRequest{Name: "vm1", SystemAssigned: true}); err != nil {
		t.Fatal(err)
	}
	env, err := s.Ops.HostEnv(ctx, "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ops.HostEnv(ctx, "rg/no-such-cluster"); err == nil {
		t.Fatal("host env for a cluster that does not exist")
	}
	secret := env.IdentityHeader
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	proxyURL, _ := url.Parse(s.HTTPProxy)
	viaProxy := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	const imds = "http://169.254.169.254/metadata/identity/oauth2/token"
	const q = "?api-version=2018-02-01&resource=6dae42f8-4368-4678-94ff-3960e28e3630"
	cases := []struct {
		name, method, url, auth, header string
		status                          int
		errCode                         string
	}{
		{"IMDS, a bearer proxy credential", "GET", imds + q, "Bearer x", "", 407, "invalid_host_credentials"},
		{"IMDS, malformed basic credential", "GET", imds + q, "Basic !!!", "", 407, "invalid_host_credentials"},
		{"IMDS, basic without a password", "GET", imds + q, "Basic " + base64.StdEncoding.EncodeToString([]byte("vm1")), "", 407, "invalid_host_credentials"},
		{"IMDS, the secret under another name", "GET", imds + q, basic("aksid-default-vm", secret), "", 407, "invalid_host_credentials"},
		{"IMDS, POST", "POST", imds + q, basic("vm1", secret), "", 405, "invalid_request"},
		{"IMDS, another path", "GET", "http://169.254.169.254/metadata/instance?api-version=2021-02-01", basic("vm1", secret), "", 404, "not_found"},
		{"IMDS, no api-version", "GET", imds + "?resource=x", basic("vm1", secret), "", 400, "invalid_request"},
		{"IMDS, no resource", "GET", imds + "?api-version=2018-02-01", basic("vm1", secret), "", 400, "invalid_request"},
		{"IMDS, two selectors", "GET", imds + q + "&client_id=a&object_id=b", basic("vm1", secret), "", 400, "invalid_request"},
		{"IMDS, an unknown resource", "GET", imds + "?api-version=2018-02-01&resource=https://nowhere.example/", basic("vm1", secret), "", 400, "invalid_resource"},
		{"App Service, POST", "POST", s.HTTPProxy + "/msi/token" + q, "", secret, 405, "invalid_request"},
		{"App Service, no api-version", "GET", s.HTTPProxy + "/msi/token?resource=x", "", secret, 400, "invalid_request"},
		{"App Service, selector with junk", "GET", s.HTTPProxy + "/msi/token" + q + "&mi_res_id=%00%ff", "", secret, 400, "invalid_request"},
		{"App Service on HTTPS, wrong header", "GET", s.URL + "/msi/token" + q, "", "x", 401, "unauthorized_client"},
		{"App Service on HTTPS, another path", "GET", s.URL + "/msi/tokens" + q, "", secret, 404, "not_found"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, c.url, nil)
		req.Header.Set("Metadata", "true")
		if c.auth != "" {
			req.Header.Set("Proxy-Authorization", c.auth)
		}
		if c.header != "" {
			req.Header.Set("X-IDENTITY-HEADER", c.header)
		}
		client := s.client
		if strings.HasPrefix(c.url, "http://169.254") {
			client = viaProxy
		}
		st, m, raw := (&testServer{Running: s.Running, client: client}).do(t, req)
		if st != c.status || m["error"] != c.errCode || m["access_token"] != nil {
			t.Errorf("%s: %d %s, want %d %s", c.name, st, raw, c.status, c.errCode)
		}
		for _, leak := range []string{".go:", "sql", "goroutine", secret} {
			if strings.Contains(raw, leak) {
				t.Errorf("%s: body leaks %q: %s", c.name, leak, raw)
			}
		}
	}
	// The same host's secret, right: a token.
	req, _ := http.NewRequest("GET", s.HTTPProxy+"/msi/token"+q, nil)
	req.Header.Set("X-IDENTITY-HEADER", secret)
	if st, m, raw := s.do(t, req); st != 200 || m["access_token"] == nil || m["expires_on"] == nil {
		t.Fatalf("App Service with the right header: %d %s", st, raw)
	}
}
