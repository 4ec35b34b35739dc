package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/rsasign"
)

// Issue 14's targets, each a ratio to oidc-provider's figure in the same run.
const (
	targetPeerRate = 1.3 // aksid (OpenSSL) tokens/s over oidc-provider's
	targetPeerCPU  = 0.7 // aksid (OpenSSL) server CPU per token over oidc-provider's
	targetGrowthMB = 10  // RSS growth over the long run
	peerPhase      = 3 * time.Second
	peerRounds     = 3
)

// longRunTokens is how many tokens each server issues before its RSS is
// read again: a million, or $AKSID_BENCH_TOKENS.
func longRunTokens(tb testing.TB) int64 {
	if v := os.Getenv("AKSID_BENCH_TOKENS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			tb.Fatalf("AKSID_BENCH_TOKENS=%q", v)
		}
		return n
	}
	return 1_000_000
}

// tokenServer is one leg of the comparison.
type tokenServer struct {
	name   string
	p      *proc
	c      *client
	idleMB float64
	toks   int64
	wall   time.Duration
	cpu    time.Duration
	lat    []time.Duration
}

// BenchmarkTokenPeers serves client-credentials tokens over HTTPS at
// concurrency 4 from aksid with OpenSSL, aksid with crypto/rsa and
// oidc-provider 9, in interleaved slices of one run, with raw RS256 on
// all cores beside: tokens/s, server CPU per token, p99, idle RSS and RSS
// after a long run (longRunTokens).
func BenchmarkTokenPeers(b *testing.B) {
	ctx := context.Background()
	bin, dataDir := built(b)
	var legs []*tokenServer
	for _, backend := range []string{"openssl", "go"} {
		// Two replicas on one data directory, as aksid allows.
		dir := dataDir
		p, err := startBinary(bin, dir, 30*time.Second, "--rsa-backend", backend)
		if err != nil {
			b.Fatal(err)
		}
		defer p.kill()
		legs = append(legs, &tokenServer{name: "aksid " + backend, p: p,
			c: newClient(b, p.url, filepath.Join(dir, "ca.pem"), binaryCreds(b, dir))})
	}
	op := startOIDCProvider(b)
	legs = append(legs, &tokenServer{name: "oidc-provider 9", p: op.proc, c: op.client(b)})

	// Idle: started, one token served, a second at rest.
	for _, l := range legs {
		if err := l.c.token(ctx); err != nil {
			b.Fatalf("%s: %v", l.name, err)
		}
		l.c.http.CloseIdleConnections()
	}
	time.Sleep(idleSettle)
	for _, l := range legs {
		l.idleMB = rssMB(b, l.p)
		if _, _, err := hammer(workers, warmup, l.c.token); err != nil {
			b.Fatalf("%s: %v", l.name, err)
		}
	}
	// Interleaved slices, so load from elsewhere weighs on every leg alike.
	for range peerRounds {
		for _, l := range legs {
			cpu0, err := l.p.cpuTime()
			if err != nil {
				b.Fatal(err)
			}
			n, wall, lat, err := timedHammer(workers, peerPhase/peerRounds, l.c.token)
			if err != nil {
				b.Fatalf("%s: %v", l.name, err)
			}
			cpu1, err := l.p.cpuTime()
			if err != nil {
				b.Fatal(err)
			}
			l.toks += n
			l.wall += wall
			l.cpu += cpu1 - cpu0
			l.lat = append(l.lat, lat...)
		}
	}
	goRate, sslRate := rawSigning(b)

	// The long run: memory stays flat (no token is stored).
	total := longRunTokens(b)
	after := map[string]float64{}
	for _, l := range legs {
		var done atomic.Int64
		_, _, err := hammerUntil(workers, func(ctx context.Context) error {
			if done.Add(1) > total {
				return errEnough
			}
			return l.c.token(ctx)
		})
		if err != nil {
			b.Fatalf("%s: %v", l.name, err)
		}
		after[l.name] = rssMB(b, l.p)
	}

	b.Logf("HTTPS client credentials, %d workers, %v per server in %d interleaved slices; long run %d tokens each", workers, peerPhase, peerRounds, total)
	b.Logf("%-16s %10s %14s %10s %10s %12s", "", "tokens/s", "srv CPU-ms/tok", "p99 ms", "idle MB", "after run MB")
	rate := func(l *tokenServer) float64 { return float64(l.toks) / l.wall.Seconds() }
	cpuMS := func(l *tokenServer) float64 { return float64(l.cpu) / float64(time.Millisecond) / float64(l.toks) }
	for _, l := range legs {
		b.Logf("%-16s %10.0f %14.3f %10.2f %10.1f %12.1f", l.name, rate(l), cpuMS(l), p99(l.lat), l.idleMB, after[l.name])
	}
	b.Logf("raw RS256 on %d cores: Go %0.f/s, OpenSSL %0.f/s (%.2f×)", runtime.NumCPU(), goRate, sslRate, sslRate/goRate)
	ssl, goLeg, peer := legs[0], legs[1], legs[2]
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(rate(ssl), "aksid-openssl-tokens/s")
	b.ReportMetric(rate(goLeg), "aksid-go-tokens/s")
	b.ReportMetric(rate(peer), "oidc-provider-tokens/s")
	b.ReportMetric(rate(ssl)/rate(peer), "rate-ratio")
	b.ReportMetric(cpuMS(ssl)/cpuMS(peer), "cpu-ratio")
	atLeast(b, "aksid (OpenSSL) tokens/s ÷ oidc-provider's", rate(ssl)/rate(peer), targetPeerRate)
	atMost(b, "aksid (OpenSSL) server CPU per token ÷ oidc-provider's", cpuMS(ssl)/cpuMS(peer), targetPeerCPU)
	for _, l := range legs[:2] {
		atMost(b, l.name+" RSS growth MB over the long run", after[l.name]-l.idleMB, targetGrowthMB)
	}
}

// rssMB is a process's resident set in MB.
func rssMB(b *testing.B, p *proc) float64 {
	kb, err := p.statusKB("VmRSS")
	if err != nil {
		b.Fatal(err)
	}
	return float64(kb) / 1024
}

// rawSigning is RS256 signatures/s on all cores with Go and with OpenSSL,
// the floor under every token.
func rawSigning(b *testing.B) (goRate, sslRate float64) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("signing input"))
	rates := map[rsasign.Backend]float64{}
	for _, be := range []rsasign.Backend{rsasign.Go, rsasign.OpenSSL} {
		s, err := rsasign.New(be, key)
		if err != nil {
			b.Fatalf("%s: %v", be, err)
		}
		n, wall, err := hammer(runtime.NumCPU(), 2*time.Second, func(context.Context) error {
			_, err := s.SignSHA256(digest[:])
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		rates[be] = float64(n) / wall.Seconds()
	}
	return rates[rsasign.Go], rates[rsasign.OpenSSL]
}

// timedHammer is hammer that also returns each call's latency.
func timedHammer(workers int, d time.Duration, op func(ctx context.Context) error) (int64, time.Duration, []time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	n, wall, err := hammer(workers, d, func(ctx context.Context) error {
		t0 := time.Now()
		err := op(ctx)
		el := time.Since(t0)
		mu.Lock()
		lat = append(lat, el)
		mu.Unlock()
		return err
	})
	return n, wall, lat, err
}

type enough struct{}

func (enough) Error() string { return "enough" }

var errEnough error = enough{}

// hammerUntil runs op from workers goroutines until it returns errEnough.
func hammerUntil(workers int, op func(ctx context.Context) error) (int64, time.Duration, error) {
	n, wall, err := hammer(workers, 24*time.Hour, op)
	if err == errEnough {
		err = nil
	}
	return n, wall, err
}

func p99(lat []time.Duration) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[len(s)*99/100]) / float64(time.Millisecond)
}
