package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// targetProxyRatio is the share of the direct token rate that tokens
// fetched through aksid's proxy (CONNECT, then TLS inside the tunnel)
// should reach.
const targetProxyRatio = 0.90

// loginHost is the impersonated host the proxied client asks for.
const loginHost = "login.microsoftonline.com"

// newProxyClient is a client like newClient's that reaches aksid through
// its own proxy: every request goes to https://login.microsoftonline.com
// over a CONNECT tunnel opened on proxyURL.
func newProxyClient(tb testing.TB, proxyURL, caPath string, direct *client, tenant string) *client {
	tb.Helper()
	pem, err := os.ReadFile(caPath)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		tb.Fatalf("no certificate in %s", caPath)
	}
	pu, err := url.Parse(proxyURL)
	if err != nil {
		tb.Fatal(err)
	}
	tr := &http.Transport{
		Proxy: http.ProxyURL(pu),
		// HTTP/1.1 inside the tunnels, like the direct client, so the
		// ratio measures the proxy and not HTTP/2 against HTTP/1.1.
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConns:        16,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     time.Minute,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &client{
		http:     &http.Client{Transport: tr, Timeout: 30 * time.Second},
		tokenURL: "https://" + loginHost + "/" + tenant + "/oauth2/v2.0/token",
		form:     direct.form,
	}
}

// jwtClaim decodes a JWT's payload and returns one string claim.
func jwtClaim(tok, name string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("JWT payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return "", fmt.Errorf("JWT payload: %w", err)
	}
	v, _ := claims[name].(string)
	return v, nil
}

// protoOf makes one token request and returns the HTTP version it used.
func protoOf(ctx context.Context, c *client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(c.form))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: HTTP %d", resp.StatusCode)
	}
	return resp.Proto, nil
}

// BenchmarkProxyTokens compares client-credentials tokens per second
// through aksid's proxy (https://login.microsoftonline.com over a CONNECT
// tunnel) with tokens per second straight from aksid's own URL, against
// one aksid run as its own process, both at concurrency 4 over kept-alive
// connections. The two modes alternate in slices of fixed duration so that
// load from other processes on the machine weighs on both alike; b.N is
// ignored.
func BenchmarkProxyTokens(b *testing.B) {
	ctx := context.Background()
	bin, dataDir := built(b)
	creds := binaryCreds(b, dataDir)
	p, err := startBinary(bin, dataDir, 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer p.kill()
	ca := filepath.Join(dataDir, "ca.pem")
	direct := newClient(b, p.url, ca, creds)
	proxied := newProxyClient(b, p.url, ca, direct, creds.TenantID)

	// The proxied token must carry Azure's v1 issuer, as from real Entra ID.
	tok, err := proxied.accessToken(ctx)
	if err != nil {
		b.Fatal(err)
	}
	iss, err := jwtClaim(tok, "iss")
	if err != nil {
		b.Fatal(err)
	}
	if want := "https://sts.windows.net/" + creds.TenantID + "/"; iss != want {
		b.Fatalf("proxied token iss = %q, want %q", iss, want)
	}

	// Warm both paths: connections, tunnels and the leaf certificate.
	for _, c := range []*client{direct, proxied} {
		if _, _, err := hammer(workers, warmup, c.token); err != nil {
			b.Fatal(err)
		}
	}
	directProto, err := protoOf(ctx, direct)
	if err != nil {
		b.Fatal(err)
	}
	proxyProto, err := protoOf(ctx, proxied)
	if err != nil {
		b.Fatal(err)
	}

	type mode struct {
		c    *client
		n    int64
		wall time.Duration
		srv  time.Duration // aksid's CPU time
	}
	d, x := &mode{c: direct}, &mode{c: proxied}
	for i := range rounds {
		order := []*mode{d, x}
		if i%2 == 1 {
			order = []*mode{x, d}
		}
		for _, m := range order {
			srv0, err := p.cpuTime()
			if err != nil {
				b.Fatal(err)
			}
			n, wall, err := hammer(workers, phase/rounds, m.c.token)
			if err != nil {
				b.Fatal(err)
			}
			srv1, err := p.cpuTime()
			if err != nil {
				b.Fatal(err)
			}
			m.n += n
			m.wall += wall
			m.srv += srv1 - srv0
		}
	}
	direct.http.CloseIdleConnections()
	proxied.http.CloseIdleConnections()
	if err := p.stop(); err != nil {
		b.Fatal(err)
	}

	directRate := float64(d.n) / d.wall.Seconds()
	proxyRate := float64(x.n) / x.wall.Seconds()
	ratio := proxyRate / directRate
	ms := func(t time.Duration, n int64) float64 { return float64(t) / float64(time.Millisecond) / float64(n) }
	b.Logf("separate aksid; %d workers; %v per mode in %d alternating slices; proxied token iss %s",
		workers, phase, rounds, iss)
	b.Logf("direct  (%s, %s):  %8.0f tokens/s  (%d tokens, %.3f server CPU-ms/token)",
		direct.tokenURL, directProto, directRate, d.n, ms(d.srv, d.n))
	b.Logf("proxied (%s via CONNECT, %s):  %8.0f tokens/s  (%d tokens, %.3f server CPU-ms/token)",
		proxied.tokenURL, proxyProto, proxyRate, x.n, ms(x.srv, x.n))
	atLeast(b, "ratio proxy/direct", ratio, targetProxyRatio)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(directRate, "direct-tokens/s")
	b.ReportMetric(proxyRate, "proxy-tokens/s")
	b.ReportMetric(ratio, "proxy/direct")
	b.ReportMetric(ms(d.srv, d.n), "direct-srv-cpu-ms/token")
	b.ReportMetric(ms(x.srv, x.n), "proxy-srv-cpu-ms/token")
}
