package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/metrics"
)

// TestAdminListener: the admin listener takes loopback addresses only,
// "off" disables it, and it serves the metrics and the probes over plain
// HTTP.
func TestAdminListener(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := metrics.New()
	ready := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"store":"ok"}`)) })
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:9464", "[::]:0", "example.com:80", "127.0.0.1"} {
		if a, err := startAdmin(addr, reg, ready, log); err == nil || !strings.Contains(err.Error(), "--admin-addr") {
			a.closeNow()
			t.Errorf("%s: %v, want a refusal naming --admin-addr", addr, err)
		}
	}
	if a, err := startAdmin("off", reg, ready, log); err != nil || a.url != "" {
		t.Fatalf("off: %+v %v", a, err)
	}
	a, err := startAdmin("127.0.0.1:0", reg, ready, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.shutdown(context.Background()) })
	reg.Request("login", 401, "AADSTS7000215")
	c := &http.Client{Timeout: 5 * time.Second}
	for path, want := range map[string]string{
		"/metrics": `aksid_http_requests_total{error_code="AADSTS7000215",face="login",status="401"} 1`,
		"/healthz": "ok", "/readyz": `"store":"ok"`,
	} {
		resp, err := c.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, want %q in\n%.500s", path, resp.StatusCode, want, b)
		}
	}
}
