package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestMetrics: GET /metrics on the admin listener (plain HTTP on loopback,
// its address in server.json) counts what was served: requests by face,
// status and Azure error code, tokens by grant and tenant, RBAC decisions,
// store transactions, and the proxy tunnels open now. The main listener
// keeps the probes but not the metrics.
func TestMetrics(t *testing.T) {
	in := start(t, "")
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]
	if !strings.HasPrefix(in.admin, "http://127.0.0.1:") {
		t.Fatalf("admin listener %q", in.admin)
	}
	in.armAdmin(t, "PUT", "/subscriptions/"+sub+"/resourcegroups/metrics?api-version=2021-04-01", `{"location":"westus2"}`)
	if st, m := in.rawToken(in.env["AKSID_ADMIN_CLIENT_ID"], "wrong", armScope); st != 401 || errorCode(m) != 7000215 {
		t.Fatalf("wrong secret: %d %v", st, m)
	}
	graphTok := in.adminToken(t, "https://graph.microsoft.com/.default")
	if err := try(in, graphTok, "GET", "/v1.0/applications/"+uuid.NewString(), nil, 404, nil); err != nil {
		t.Fatal(err)
	}
	if err := try(in, in.adminToken(t, armScope), "GET", "/subscriptions/"+sub+"/resourcegroups/nonesuch?api-version=2021-04-01", nil, 404, nil); err != nil {
		t.Fatal(err)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	get := func(c *http.Client, url string) (int, string) {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, probe := range []string{in.admin + "/healthz", in.admin + "/readyz"} {
		if st, body := get(plain, probe); st != 200 {
			t.Errorf("%s: %d %s", probe, st, body)
		}
	}
	if st, _ := get(in.client, in.url+"/readyz"); st != 200 {
		t.Errorf("readyz on the main listener: %d", st)
	}
	if st, body := get(in.client, in.url+"/metrics"); st != 404 {
		t.Errorf("metrics on the main listener: %d %.200s", st, body)
	}
	// A tunnel through the proxy, kept open by its idle connection.
	tr := in.proxyTransport(t)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	resp, err := hc.Get("https://login.microsoftonline.com/" + tid + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	scrape := func() string {
		t.Helper()
		st, text := get(plain, in.admin+"/metrics")
		if st != 200 {
			t.Fatalf("metrics: %d %s", st, text)
		}
		return text
	}
	value := func(text, series string) float64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	want := map[string]float64{
		`aksid_tokens_issued_total{grant="client_credentials",tenant="` + tid + `"}`:                 1,
		`aksid_http_requests_total{error_code="",face="login",status="200"}`:                         2,
		`aksid_http_requests_total{error_code="AADSTS7000215",face="login",status="401"}`:            1,
		`aksid_http_requests_total{error_code="",face="arm",status="201"}`:                           1,
		`aksid_http_requests_total{error_code="ResourceGroupNotFound",face="arm",status="404"}`:      1,
		`aksid_http_requests_total{error_code="Request_ResourceNotFound",face="graph",status="404"}`: 1,
		`aksid_http_requests_total{error_code="",face="ops",status="200"}`:                           1,
		`aksid_authz_decision_seconds_count{decision="allowed"}`:                                     1,
		`aksid_store_seconds_count{op="view",outcome="ok"}`:                                          1,
		`aksid_proxy_tunnels_open`: 1,
	}
	// A request is counted once its answer is out: scrape until all are.
	var text string
	var short []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		text, short = scrape(), nil
		for series, atLeast := range want {
			if v := value(text, series); v < atLeast {
				short = append(short, fmt.Sprintf("%s = %v, want at least %v", series, v, atLeast))
			}
		}
		if len(short) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, s := range short {
		t.Error(s)
	}
	// The tunnel closes with its connection.
	tr.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for value(scrape(), "aksid_proxy_tunnels_open") != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if v := value(scrape(), "aksid_proxy_tunnels_open"); v != 0 {
		t.Errorf("tunnels open after the client closed its: %v", v)
	}
	if strings.Contains(text, in.env["AKSID_ADMIN_CLIENT_SECRET"]) {
		t.Error("a secret in the metrics")
	}
}
