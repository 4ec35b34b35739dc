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
)

// TestMetrics: GET /metrics counts what was served: requests by face and
// status, tokens by grant and tenant, RBAC decisions, store transactions,
// and the proxy tunnels open now.
func TestMetrics(t *testing.T) {
	in := start(t, "")
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]
	in.armAdmin(t, "PUT", "/subscriptions/"+sub+"/resourcegroups/metrics?api-version=2021-04-01", `{"location":"westus2"}`)
	if st, _ := in.rawToken(in.env["AKSID_ADMIN_CLIENT_ID"], "wrong", armScope); st != 401 {
		t.Fatalf("wrong secret: %d", st)
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
		resp, err := in.client.Get(in.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
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
		`aksid_tokens_issued_total{grant="client_credentials",tenant="` + tid + `"}`: 1,
		`aksid_http_requests_total{face="login",status="200"}`:                       2,
		`aksid_http_requests_total{face="login",status="401"}`:                       1,
		`aksid_http_requests_total{face="arm",status="201"}`:                         1,
		`aksid_authz_decision_seconds_count{decision="allowed"}`:                     1,
		`aksid_store_seconds_count{op="view",outcome="ok"}`:                          1,
		`aksid_proxy_tunnels_open`:                                                   1,
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
