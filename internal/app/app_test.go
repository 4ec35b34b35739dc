package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type testServer struct {
	*Running
	client *http.Client
}

func startTest(t *testing.T) *testServer {
	t.Helper()
	r, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), InMemory: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, r.CAPath)}}
	return &testServer{Running: r, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

func (s *testServer) do(t *testing.T, req *http.Request) (int, map[string]any, string) {
	t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, string(b)
}

func (s *testServer) post(t *testing.T, path, contentType, body string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return s.do(t, req)
}

// TestHostileInputGetsEntraAnswers sends bad requests to the login face
// and checks each gets Entra's code, status and body shape, never a 500
// and never an internal detail.
func TestHostileInputGetsEntraAnswers(t *testing.T) {
	s := startTest(t)
	tid := s.Creds.TenantID
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.Creds.ClientID},
		"client_secret": {s.Creds.ClientSecret}, "scope": {"6dae42f8-4368-4678-94ff-3960e28e3630/.default"}}
	formCT := "application/x-www-form-urlencoded; charset=utf-8"
	mod := func(kv ...string) string {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f.Encode()
	}
	cases := []struct {
		name, method, path, ct, body string
		status, code                 int
	}{
		{"unknown tenant", "POST", "/00000000-1111-2222-3333-444444444444/oauth2/v2.0/token", formCT, form.Encode(), 400, 90002},
		{"unknown client", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("client_id", "0b0b0b0b-2222-3333-4444-555555555555"), 400, 700016},
		{"wrong secret is 401", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("client_secret", "zzz8Q~not-the-secret"), 401, 7000215},
		{"wrong secret v1", "POST", "/" + tid + "/oauth2/token", formCT, mod("client_secret", "x", "resource", "https://management.azure.com/"), 401, 7000215},
		{"GET on token endpoint", "GET", "/" + tid + "/oauth2/v2.0/token", "", "", 400, 900561},
		{"JSON body", "POST", "/" + tid + "/oauth2/v2.0/token", "application/json", `{"grant_type":"client_credentials"}`, 400, 900144},
		{"no content type", "POST", "/" + tid + "/oauth2/v2.0/token", "", form.Encode(), 400, 900144},
		{"body over 64 KiB", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("client_assertion", strings.Repeat("A", 70<<10)), 413, 90015},
		{"broken percent-encoding", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, "grant_type=%zz&client_id=%", 400, 900144},
		{"unsupported grant", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("grant_type", "urn:ietf:params:oauth:grant-type:saml1_1-bearer"), 400, 70003},
		{"password grant without username", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("grant_type", "password"), 400, 900144},
		{"bad scope", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("scope", "User.Read"), 400, 1002012},
		{"unknown resource", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("scope", "https://unknown.example//.default"), 400, 500011},
		{"SQL-ish tenant", "GET", "/x'%20OR%201=1--/v2.0/.well-known/openid-configuration", "", "", 400, 90002},
		{"unknown tenant discovery", "GET", "/nowhere.example/.well-known/openid-configuration", "", "", 400, 90002},
		{"garbage assertion", "POST", "/" + tid + "/oauth2/v2.0/token", formCT, mod("client_secret", "", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", "eyJ.\x00.\xff"), 400, 50027},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, s.URL+c.path, body)
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			req.Header.Set("client-request-id", "9f1f2a3b-0000-4000-8000-000000000001")
			status, m, raw := s.do(t, req)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, raw)
			}
			codes, _ := m["error_codes"].([]any)
			if len(codes) != 1 || int(codes[0].(float64)) != c.code {
				t.Fatalf("error_codes %v, want %d: %s", m["error_codes"], c.code, raw)
			}
			desc, _ := m["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") || m["error"] == "" || m["trace_id"] == "" || m["timestamp"] == "" ||
				m["correlation_id"] != "9f1f2a3b-0000-4000-8000-000000000001" {
				t.Fatalf("body shape: %s", raw)
			}
			for _, leak := range []string{".go:", "sql", "goroutine", "panic", s.Creds.ClientSecret} {
				if strings.Contains(strings.ToLower(raw), strings.ToLower(leak)) {
					t.Fatalf("body leaks %q: %s", leak, raw)
				}
			}
		})
	}
	t.Run("oversized headers are refused", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.URL+"/"+tid+"/discovery/keys", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 128<<10))
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	t.Run("admin endpoints need the token", func(t *testing.T) {
		status, _, raw := s.post(t, "/aksid/admin/clock", "application/json", `{"action":"advance","duration":"366d"}`)
		if status != 401 || s.Ops.Clock().Offset != "0s" {
			t.Fatalf("status %d %s", status, raw)
		}
	})
}

func TestDiscoveryDocuments(t *testing.T) {
	s := startTest(t)
	tid := s.Creds.TenantID
	get := func(path string) map[string]any {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		status, m, raw := s.do(t, req)
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, raw)
		}
		return m
	}
	v1 := get("/" + tid + "/.well-known/openid-configuration")
	if v1["issuer"] != s.URL+"/"+tid+"/" || v1["token_endpoint"] != s.URL+"/"+tid+"/oauth2/token" || v1["jwks_uri"] != s.URL+"/"+tid+"/discovery/keys" {
		t.Fatalf("v1 %v", v1)
	}
	// MSAL 1.7.2 asks with an empty query string; by domain works too.
	v2 := get("/aksid.local/v2.0/.well-known/openid-configuration?")
	if v2["issuer"] != s.URL+"/"+tid+"/v2.0" || v2["token_endpoint"] != s.URL+"/"+tid+"/oauth2/v2.0/token" || v2["authorization_endpoint"] == "" {
		t.Fatalf("v2 %v", v2)
	}
	org := get("/organizations/v2.0/.well-known/openid-configuration")
	if org["issuer"] != s.URL+"/{tenantid}/v2.0" || org["token_endpoint"] != s.URL+"/organizations/oauth2/v2.0/token" {
		t.Fatalf("organizations %v", org)
	}
	common := get("/common/.well-known/openid-configuration")
	if common["issuer"] != s.URL+"/{tenantid}/" {
		t.Fatalf("common %v", common)
	}
	// Azure's issuers with endpoints on aksid's own URL, for an API server
	// that verifies proxy-mode tokens without going through the proxy.
	az1 := get("/" + tid + "/azure/.well-known/openid-configuration")
	if az1["issuer"] != "https://sts.windows.net/"+tid+"/" || az1["jwks_uri"] != s.URL+"/"+tid+"/discovery/keys" {
		t.Fatalf("azure v1 %v", az1)
	}
	az2 := get("/aksid.local/azure/v2.0/.well-known/openid-configuration")
	if az2["issuer"] != "https://login.microsoftonline.com/"+tid+"/v2.0" || az2["jwks_uri"] != s.URL+"/"+tid+"/discovery/v2.0/keys" {
		t.Fatalf("azure v2 %v", az2)
	}
	for _, p := range []string{"/" + tid + "/discovery/keys", "/" + tid + "/discovery/v2.0/keys", "/common/discovery/keys"} {
		keys, _ := get(p)["keys"].([]any)
		if len(keys) < 2 {
			t.Fatalf("%s: %d keys (current and next expected)", p, len(keys))
		}
	}
	inst := get("/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(s.URL+"/"+tid+"/oauth2/v2.0/authorize"))
	if inst["tenant_discovery_endpoint"] != s.URL+"/"+tid+"/v2.0/.well-known/openid-configuration" {
		t.Fatalf("instance discovery %v", inst)
	}
}
