package apiserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/pki"
)

// fakeClock is moved by hand, for idle decisions.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type staticKey struct{ k crypto.Signer }

func (s staticKey) SigningKey(context.Context) (crypto.Signer, error) { return s.k, nil }

// TestRealAPIServer runs the real kube-apiserver over etcd: a namespace
// made with the admin's client certificate outlives a stop, an idle stop
// and a start, and is gone after Delete. It builds kube-apiserver when
// `make deps` has not.
func TestRealAPIServer(t *testing.T) {
	ctx := t.Context()
	dataDir := t.TempDir()
	bin, err := EnsureBinary(ctx, dataDir, t.Output())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keyring.Random()
	if err != nil {
		t.Fatal(err)
	}
	clusterCA, err := pki.LoadOrCreateCA(t.TempDir(), ring, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	adminCA, err := newLocalCA("admin CA")
	if err != nil {
		t.Fatal(err)
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := New(Config{DataDir: dataDir, Binary: bin, Clock: clk, IdleAfter: time.Minute,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const issuer = "https://eastus.oic.prod-aks.azure.com/tenant/issuer/"
	c := Cluster{ID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c1",
		FQDN: "c1-g-0123ab-4567cdef.hcp.eastus.azmk8s.io", Serving: clusterCA, ClientCA: adminCA.pem,
		Issuer: issuer, Key: staticKey{saKey},
		Objects: []json.RawMessage{json.RawMessage(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"aks-pool-12345678-vmss000000"},` +
			`"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":null}]}}`),
			json.RawMessage(`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"default"}}`)}}

	// The first start is seeded with the default RBAC objects, the one
	// after Delete not: the hook must find all it makes in the seed, and
	// alone make no more than it.
	defer func() { seedBootstrap = true }()
	seedBootstrap = !*updateSeed
	ep := start(t, s, c)
	// kubectl create right after get-credentials: the namespaces are
	// there when Start returns, seeded or not.
	if !namespacesMade(t.Context(), ep) {
		t.Fatal("Start returned before the system namespaces were made")
	}
	checkSeed(t, ep, seedBootstrap)
	checkMemoryLimit(t, ep, memoryLimit(s.clusterDir(c.ID)))
	admin := adminClient(t, adminCA, clusterCA, c.FQDN)
	if !ep.First || ep.Seeded != seedBootstrap {
		t.Fatalf("a first start: First %t, Seeded %t, want true, %t", ep.First, ep.Seeded, seedBootstrap)
	}
	// The cluster's own objects came with the seed, stamped as the API
	// would, in its first answer.
	var n struct {
		Metadata struct{ UID, CreationTimestamp string }
		Status   struct {
			Conditions []struct{ Type, Status, LastHeartbeatTime, LastTransitionTime string }
		}
	}
	if code := do(t, admin, "GET", ep.URL+"/api/v1/nodes/aks-pool-12345678-vmss000000", "", &n); seedBootstrap &&
		(code != http.StatusOK || n.Metadata.UID == "" || n.Metadata.CreationTimestamp == "" || len(n.Status.Conditions) != 1 ||
			n.Status.Conditions[0].LastHeartbeatTime != n.Metadata.CreationTimestamp || n.Status.Conditions[0].LastTransitionTime != n.Metadata.CreationTimestamp) {
		t.Fatalf("node written with the seed: %d %+v", code, n)
	}
	if code := do(t, admin, "GET", ep.URL+"/api/v1/namespaces/default/serviceaccounts/default", "", nil); seedBootstrap && code != http.StatusOK {
		t.Fatalf("a namespaced object written with the seed: %d", code)
	}
	// As AKS: no anonymous requests.
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: clusterCA.Pool(), ServerName: c.FQDN}}}
	if code := do(t, anon, "GET", ep.URL+"/api/v1/namespaces", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d, want 401", code)
	}
	if code := do(t, admin, "POST", ep.URL+"/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kept"}}`, nil); code != http.StatusCreated {
		t.Fatalf("create namespace: %d", code)
	}
	// Service-account tokens carry the cluster's issuer, signed with the
	// key given, though its file is gone once the server has read it.
	if code := do(t, admin, "POST", ep.URL+"/api/v1/namespaces/kept/serviceaccounts", `{"metadata":{"name":"wl"}}`, nil); code != http.StatusCreated {
		t.Fatalf("create service account: %d", code)
	}
	var tr struct {
		Status struct{ Token string } `json:"status"`
	}
	if code := do(t, admin, "POST", ep.URL+"/api/v1/namespaces/kept/serviceaccounts/wl/token",
		`{"spec":{"audiences":["api://AzureADTokenExchange"]}}`, &tr); code != http.StatusCreated {
		t.Fatalf("token request: %d", code)
	}
	if got := jwtIssuer(t, tr.Status.Token); got != issuer {
		t.Fatalf("token issuer %q, want %q", got, issuer)
	}
	// Its discovery names the issuer's public JWKS, not the loopback
	// address the server listens on.
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if code := do(t, admin, "GET", ep.URL+"/.well-known/openid-configuration", "", &disc); code != http.StatusOK ||
		disc.Issuer != issuer || disc.JWKSURI != issuer+"openid/v1/jwks" {
		t.Fatalf("service-account issuer discovery: %d %+v", code, disc)
	}

	running := s.inst(c.ID).p
	s.Stop(c.ID)
	if _, ok := s.Running(c.ID); ok {
		t.Fatal("running after Stop")
	}
	// Stopped by its SIGTERM, not killed after the grace period.
	if running.err != nil {
		t.Fatalf("kube-apiserver's exit after Stop: %v", running.err)
	}
	if m := s.MemoryOf(c.ID); m != (Memory{}) {
		t.Fatalf("memory after Stop: %+v, want none (etcd stops with the last server)", m)
	}
	ep = start(t, s, c)
	if code := do(t, admin, "GET", ep.URL+"/api/v1/namespaces/kept", "", nil); code != http.StatusOK {
		t.Fatalf("namespace after restart: %d", code)
	}
	if ep.First || ep.Seeded {
		t.Fatalf("a restart: First %t, Seeded %t, want neither", ep.First, ep.Seeded)
	}

	clk.Advance(30 * time.Second)
	if n := s.StopIdle(nil); n != 0 {
		t.Fatalf("stopped %d servers used 30 s ago", n)
	}
	// The sweep recorded the running server's live heap for the next
	// start's limit.
	b, err := os.ReadFile(filepath.Join(s.clusterDir(c.ID), liveHeapFile))
	if err != nil {
		t.Fatalf("live heap not recorded by the sweep: %v", err)
	}
	if live, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil || live < 20<<20 || live > 1<<30 {
		t.Fatalf("recorded live heap %q: want 20 MiB to 1 GiB", b)
	}
	clk.Advance(time.Minute)
	running = s.inst(c.ID).p
	// A watch open at an idle stop (aksid's controllers hold some) would
	// hold up kube-apiserver's exit until the watch ends: StopIdle's hook
	// ends it first, and the server exits at its SIGTERM.
	wctx, endWatch := context.WithCancel(ctx)
	defer endWatch()
	watch, err := http.NewRequestWithContext(wctx, "GET", ep.URL+"/api/v1/namespaces?watch=1&timeoutSeconds=600", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := admin.Do(watch)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: %v %v", resp, err)
	}
	defer resp.Body.Close()
	var before []string
	if n := s.StopIdle(func(id string) { before = append(before, id); endWatch() }); n != 1 {
		t.Fatalf("StopIdle stopped %d, want 1", n)
	}
	if len(before) != 1 || before[0] != c.ID {
		t.Fatalf("StopIdle's hook ran for %q, want once for %s", before, c.ID)
	}
	if running.err != nil {
		t.Fatalf("kube-apiserver's exit after an idle stop: %v", running.err)
	}

	if err := s.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	seedBootstrap = false
	ep = start(t, s, c)
	if !namespacesMade(t.Context(), ep) {
		t.Fatal("an unseeded Start returned before the system namespaces were made")
	}
	checkSeed(t, ep, false)
	if code := do(t, admin, "GET", ep.URL+"/api/v1/namespaces/kept", "", nil); code != http.StatusNotFound {
		t.Fatalf("namespace after Delete: %d, want 404", code)
	}
	if !ep.First || ep.Seeded {
		t.Fatalf("after Delete, unseeded: First %t, Seeded %t, want true, false", ep.First, ep.Seeded)
	}
}

func start(t *testing.T, s *Supervisor, c Cluster) *Endpoint {
	t.Helper()
	began := time.Now()
	ep, err := s.Start(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	m := s.MemoryOf(c.ID)
	t.Logf("Start: %s (kube-apiserver /readyz after %s); RSS kube-apiserver %d MB, etcd %d MB",
		time.Since(began).Round(time.Millisecond), ep.Ready.Round(time.Millisecond), m.APIServer>>20, m.Etcd>>20)
	return ep
}

// adminClient presents a get-credentials --admin style certificate and
// checks the server under the cluster's FQDN, as kubectl through the
// proxy does.
func adminClient(t *testing.T, adminCA *localCA, clusterCA *pki.CA, fqdn string) *http.Client {
	p, err := adminCA.issue("masterclient", []string{"system:masters"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(p.cert, p.key)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: clusterCA.Pool(), ServerName: fqdn}}}
}

func do(t *testing.T, c *http.Client, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return resp.StatusCode
}

func jwtIssuer(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Iss string }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Iss
}

// checkMemoryLimit waits for the server's GOMEMLIMIT, lifted during its
// start, to be want (GOMEMLIMIT=<n>MiB) once it is ready.
func checkMemoryLimit(t *testing.T, ep *Endpoint, want string) {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := ep.Client.Get(ep.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		got, err = metricValue(resp.Body, "go_gc_gomemlimit_bytes")
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("GOMEMLIMIT=%dMiB", int64(got)>>20) == want {
			return
		}
	}
	t.Fatalf("kube-apiserver's memory limit once ready: %.0f bytes, want %s", got, want)
}
