package e2e

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestReplicasBehindOneAddress: two replicas on one PostgreSQL behind a
// loopback TCP balancer, started with --public-url naming it. Clients see
// one aksid: every issuer names the shared URL, so a token one replica
// issued is accepted by the other, reached directly or through the
// balancer, which spreads connections over both.
func TestReplicasBehindOneAddress(t *testing.T) {
	store := postgresURL(t)
	dataDir := t.TempDir()
	addrA, addrB := loopbackAddr(t), loopbackAddr(t)
	lb := startBalancer(t, addrA, addrB)
	public := "https://" + lb.addr
	a := start(t, dataDir, "--store", store, "--addr", addrA, "--public-url", public)
	b := start(t, dataDir, "--store", store, "--addr", addrB, "--public-url", public)
	if a.url != public || b.url != public {
		t.Fatalf("server.json names %s and %s, want %s", a.url, b.url, public)
	}
	direct := func(in *instance, addr string) *instance {
		d := *in
		d.url = "https://" + addr
		d.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.pool}}}
		return &d
	}
	onA, onB := direct(a, addrA), direct(b, addrB)

	const graphScope = "https://graph.microsoft.com/.default"
	tokA := onA.adminToken(t, graphScope)
	var claims struct {
		Issuer string `json:"iss"`
	}
	parsed, err := jwt.ParseSigned(tokA, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || parsed.UnsafeClaimsWithoutVerification(&claims) != nil {
		t.Fatalf("token from A: %v", err)
	}
	if !strings.HasPrefix(claims.Issuer, public+"/") {
		t.Errorf("a token issued directly by replica A names issuer %q, want one on %s", claims.Issuer, public)
	}
	if err := try(onB, tokA, "GET", "/v1.0/servicePrincipals?$top=1", nil, 200, nil); err != nil {
		t.Errorf("replica B refused replica A's token: %v", err)
	}
	tokB := onB.adminToken(t, armScope)
	if err := try(onA, tokB, "GET", "/subscriptions/"+a.env["AKSID_SUBSCRIPTION_ID"]+"/resourcegroups?api-version=2021-04-01", nil, 200, nil); err != nil {
		t.Errorf("replica A refused replica B's token: %v", err)
	}
	// Through the balancer, each request on a new connection: tokens and
	// the calls made with them land on either replica and all succeed.
	viaLB := direct(a, lb.addr)
	viaLB.client.Transport.(*http.Transport).DisableKeepAlives = true
	for i := range 8 {
		tok := viaLB.adminToken(t, graphScope)
		if err := try(viaLB, tok, "GET", "/v1.0/servicePrincipals?$top=1", nil, 200, nil); err != nil {
			t.Fatalf("request %d through the balancer: %v", i, err)
		}
	}
	if lb.count[0].Load() == 0 || lb.count[1].Load() == 0 {
		t.Errorf("the balancer reached A %d and B %d times: both should serve", lb.count[0].Load(), lb.count[1].Load())
	}
}

// loopbackAddr is a free loopback address for a replica to listen on.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// balancer passes each TCP connection to the next backend in turn, as a
// load balancer in front of replicas would (TLS passes through).
type balancer struct {
	addr  string
	count [2]atomic.Int64
}

func startBalancer(t *testing.T, backends ...string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &balancer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			i := n % len(backends)
			lb.count[i].Add(1)
			wg.Go(func() {
				defer c.Close()
				up, err := net.Dial("tcp", backends[i])
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
				<-done
			})
		}
	})
	return lb
}

// TestClockMovesOnEveryReplicaAtOnce: `aksid clock advance` reaches one
// replica (the data directory's newest server); the other refuses a
// secret the move expired at its very next token request, not at its
// next refresh tick.
func TestClockMovesOnEveryReplicaAtOnce(t *testing.T) {
	store := postgresURL(t)
	dataDir := t.TempDir()
	a := start(t, dataDir, "--store", store, "--refresh", "1h")
	b := start(t, dataDir, "--store", store, "--refresh", "1h")
	sp := b.createSP("clock-replicas")
	for _, in := range []*instance{a, b} {
		if st, m := in.rawToken(sp.AppID, sp.Password, armScope); st != 200 {
			t.Fatalf("before the move: %d %v", st, m)
		}
	}
	aksidRun(t, "clock", "advance", "366d", "--data-dir", dataDir) // the CLI reaches b, the newest
	for name, in := range map[string]*instance{"a": a, "b": b} {
		if st, m := in.rawToken(sp.AppID, sp.Password, armScope); st != 401 || errorCode(m) != 7000222 {
			t.Errorf("replica %s after the clock moved a year: %d %v, want 401 AADSTS7000222", name, st, m)
		}
	}
}
