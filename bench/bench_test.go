// Package bench measures aksid's token throughput, cold start and idle memory against its performance targets.
package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/app"
)

const (
	workers     = 4 // concurrent clients and signers
	warmup      = 300 * time.Millisecond
	phase       = 3 * time.Second // each measured phase
	rounds      = 3               // the signature and token phases alternate in this many slices
	coldStarts  = 5
	idleSettle  = time.Second
	targetRatio = 0.80 // tokens/s over raw RS256 signatures/s
	targetColdM = 50   // ms from exec to the first discovery answer
	targetRSSMB = 20   // idle resident set
)

// startInProcess runs aksid inside the test binary on a fresh data directory.
func startInProcess(tb testing.TB) *app.Running {
	tb.Helper()
	r, err := app.Start(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: tb.TempDir(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			tb.Error(err)
		}
	})
	return r
}

// TestHarness checks that the harness can reach an in-process aksid: one
// discovery request and one token request succeed.
func TestHarness(t *testing.T) {
	r := startInProcess(t)
	c := newClient(t, r.URL, r.CAPath, r.Creds)
	ctx := context.Background()
	if err := c.get(ctx, r.URL+"/"+r.Creds.TenantID+"/v2.0/.well-known/openid-configuration"); err != nil {
		t.Fatal(err)
	}
	if err := c.token(ctx); err != nil {
		t.Fatal(err)
	}
	// The signing backend chosen at start is exported as a metric, on
	// the admin listener (plain HTTP).
	if r.AdminURL == "" {
		t.Fatal("no admin listener")
	}
	resp, err := http.Get(r.AdminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `aksid_token_signing_backend{backend="` + string(r.Signing.Backend) + `",library="` + r.Signing.Library + `"} 1`
	if !strings.Contains(string(body), want) {
		t.Fatalf("/metrics has no %s:\n%s", want, body)
	}
}

// BenchmarkTokenThroughput compares client-credentials tokens per second
// over HTTPS with raw RS256 signatures per second, both at concurrency 4,
// and reports the CPU each token costs. The phases run for a fixed time
// whatever b.N is.
func BenchmarkTokenThroughput(b *testing.B) {
	ctx := context.Background()
	r := startInProcess(b)
	c := newClient(b, r.URL, r.CAPath, r.Creds)

	// A real token's signing input is the payload the raw signatures sign.
	tok, err := c.accessToken(ctx)
	if err != nil {
		b.Fatal(err)
	}
	signingInput := []byte(tok[:strings.LastIndexByte(tok, '.')])

	// Phases 1 and 2, interleaved in slices so that load from other
	// processes on the machine weighs on both alike: raw RS256 signatures,
	// the floor under every token, and tokens from the in-process aksid
	// (whose CPU includes the client's).
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	sign := func(context.Context) error {
		sum := sha256.Sum256(signingInput)
		_, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		return err
	}
	if _, _, err := hammer(workers, warmup, c.token); err != nil {
		b.Fatal(err)
	}
	var sigs, toks int64
	var sigTime, tokTime, sigCPU, tokCPU time.Duration
	for range rounds {
		for _, m := range []struct {
			op        func(context.Context) error
			n         *int64
			wall, cpu *time.Duration
		}{{sign, &sigs, &sigTime, &sigCPU}, {c.token, &toks, &tokTime, &tokCPU}} {
			cpu0 := selfCPU()
			n, wall, err := hammer(workers, phase/rounds, m.op)
			if err != nil {
				b.Fatal(err)
			}
			*m.n += n
			*m.wall += wall
			*m.cpu += selfCPU() - cpu0
		}
	}
	sigRate := float64(sigs) / sigTime.Seconds()
	tokRate := float64(toks) / tokTime.Seconds()

	// Phase 3: tokens from aksid as its own process, whose CPU is the
	// server's alone (the client competes with it for the cores, so its
	// rate is lower than a dedicated server's).
	bin, dataDir := built(b)
	p, err := startBinary(bin, dataDir, 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer p.kill()
	bc := newClient(b, p.url, filepath.Join(dataDir, "ca.pem"), binaryCreds(b, dataDir))
	if _, _, err := hammer(workers, warmup, bc.token); err != nil {
		b.Fatal(err)
	}
	srv0, err := p.cpuTime()
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := selfCPU()
	binToks, binTime, err := hammer(workers, phase, bc.token)
	cliCPU := selfCPU() - cpu0
	if err != nil {
		b.Fatal(err)
	}
	srv1, err := p.cpuTime()
	if err != nil {
		b.Fatal(err)
	}
	if err := p.stop(); err != nil {
		b.Fatal(err)
	}
	binRate := float64(binToks) / binTime.Seconds()

	ms := func(d time.Duration, n int64) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
	ratio := tokRate / sigRate
	b.Logf("signing input %d bytes; %d workers; %v per phase (signatures and in-process tokens in %d alternating slices)",
		len(signingInput), workers, phase, rounds)
	b.Logf("raw RS256:          %8.0f signatures/s  (%.3f CPU-ms/signature)", sigRate, ms(sigCPU, sigs))
	b.Logf("in-process aksid:   %8.0f tokens/s      (%.3f CPU-ms/token, client included)", tokRate, ms(tokCPU, toks))
	b.Logf("separate aksid:     %8.0f tokens/s      (%.3f server CPU-ms/token, client excluded; client %.3f CPU-ms/token)",
		binRate, ms(srv1-srv0, binToks), ms(cliCPU, binToks))
	// What a server with the cores to itself would reach if CPU-bound.
	srvRatio := ms(sigCPU, sigs) / ms(srv1-srv0, binToks)
	b.Logf("server-only CPU ratio signature/token %.2f (the target's figure on a machine to itself)", srvRatio)
	atLeast(b, "ratio tokens/signatures", ratio, targetRatio)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(tokRate, "tokens/s")
	b.ReportMetric(sigRate, "sigs/s")
	b.ReportMetric(ratio, "tokens/sig")
	b.ReportMetric(ms(tokCPU, toks), "cpu-ms/token")
	b.ReportMetric(ms(srv1-srv0, binToks), "srv-cpu-ms/token")
	b.ReportMetric(ms(sigCPU, sigs), "cpu-ms/sig")
	b.ReportMetric(binRate, "bin-tokens/s")
	b.ReportMetric(srvRatio, "srv-cpu-ratio")
}

// BenchmarkColdStart times `aksid serve` on an existing data directory from
// exec to the first answered discovery request; it reports the median.
func BenchmarkColdStart(b *testing.B) {
	bin, dataDir := built(b)
	creds := binaryCreds(b, dataDir)
	ca := filepath.Join(dataDir, "ca.pem")
	var times []time.Duration
	for range max(b.N, coldStarts) {
		// A fresh client per start: the first request pays the TLS handshake.
		c := newClient(b, "", ca, creds)
		start := time.Now()
		p, err := startBinary(bin, dataDir, 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		url := p.url + "/" + creds.TenantID + "/v2.0/.well-known/openid-configuration"
		for {
			err = c.get(context.Background(), url)
			if err == nil || time.Since(start) > 10*time.Second {
				break
			}
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		c.http.CloseIdleConnections()
		if err != nil {
			p.kill()
			b.Fatal(err)
		}
		if err := p.stop(); err != nil {
			b.Fatal(err)
		}
		times = append(times, elapsed)
	}
	slices.Sort(times)
	median := float64(times[len(times)/2]) / float64(time.Millisecond)
	b.Logf("cold start over %d runs: min %v, max %v",
		len(times), times[0].Round(100*time.Microsecond), times[len(times)-1].Round(100*time.Microsecond))
	atMost(b, "cold start median ms", median, targetColdM)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median, "median-ms")
}

// BenchmarkIdleRSS reports aksid's resident memory once it has answered a
// discovery and a token request and sat idle for a second.
func BenchmarkIdleRSS(b *testing.B) {
	bin, dataDir := built(b)
	creds := binaryCreds(b, dataDir)
	p, err := startBinary(bin, dataDir, 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer p.kill()
	c := newClient(b, p.url, filepath.Join(dataDir, "ca.pem"), creds)
	ctx := context.Background()
	if err := c.get(ctx, p.url+"/"+creds.TenantID+"/v2.0/.well-known/openid-configuration"); err != nil {
		b.Fatal(err)
	}
	if err := c.token(ctx); err != nil {
		b.Fatal(err)
	}
	c.http.CloseIdleConnections()
	time.Sleep(idleSettle)
	rss, err := p.statusKB("VmRSS")
	if err != nil {
		b.Fatal(err)
	}
	hwm, err := p.statusKB("VmHWM")
	if err != nil {
		b.Fatal(err)
	}
	// Where it goes: the heap and runtime (anonymous) against the mapped
	// pages of the binary and its libraries (file-backed; docs/signing.md).
	anon, errA := p.statusKB("RssAnon")
	file, errF := p.statusKB("RssFile")
	if errA != nil || errF != nil {
		b.Fatal(errA, errF)
	}
	if err := p.stop(); err != nil {
		b.Fatal(err)
	}
	mb := float64(rss) / 1024
	b.Logf("peak RSS %.1f MB; at rest anonymous %.1f MB, file-backed %.1f MB", float64(hwm)/1024, float64(anon)/1024, float64(file)/1024)
	atMost(b, "idle RSS MB", mb, targetRSSMB)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(mb, "RSS-MB")
}
