package kubeplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/apiserver"
)

const testFQDN = "c1-0a1b2c3d.hcp.eastus.azmk8s.io"

// fakeClusters is one cluster, which a test may stop or delete.
type fakeClusters struct {
	mu          sync.Mutex
	running     bool
	gone        bool
	noAzureRBAC bool
	lookups     int
}

func (f *fakeClusters) KubeSpec(_ context.Context, id string) (aks.KubeSpec, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return aks.KubeSpec{}, errors.New("not found")
	}
	return aks.KubeSpec{ID: testClusterID, FQDN: testFQDN, Running: f.running, Entra: true, AzureRBAC: !f.noAzureRBAC}, nil
}

func (f *fakeClusters) ClusterByFQDN(_ context.Context, host string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.gone || host != testFQDN {
		return "", nil
	}
	return testClusterID, nil
}

// fakeSupervisor "runs" a server that is a plain TCP listener.
type fakeSupervisor struct {
	mu      sync.Mutex
	ep      *apiserver.Endpoint
	started apiserver.Cluster
	starts  int
	touched int
	// gate, when set, holds each start until it is closed.
	gate, begun chan struct{}
}

func (f *fakeSupervisor) Start(_ context.Context, c apiserver.Cluster) (*apiserver.Endpoint, error) {
	if f.gate != nil {
		f.begun <- struct{}{}
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = c
	f.starts++
	return f.ep, nil
}
func (f *fakeSupervisor) Running(string) (*apiserver.Endpoint, bool) { return f.ep, true }
func (f *fakeSupervisor) Touch(string)                               { f.mu.Lock(); f.touched++; f.mu.Unlock() }
func (f *fakeSupervisor) Stop(string)                                {}
func (f *fakeSupervisor) StopIdle(func(string)) int                  { return 0 }
func (f *fakeSupervisor) Delete(context.Context, string) error       { return nil }
func (f *fakeSupervisor) Close()                                     {}

// fakeAPIServer answers every request the reconcile sends with 201.
func fakeAPIServer(t *testing.T) *apiserver.Endpoint {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return &apiserver.Endpoint{URL: srv.URL, Client: srv.Client()}
}

func newTestPlane(t *testing.T, c *fakeClusters, s *fakeSupervisor, find func(string) (string, error)) *Plane {
	return New(Config{Supervisor: s, Clusters: c, WebhookBase: "https://127.0.0.1:8443", FindBinary: find,
		Build: func(context.Context, string, io.Writer) (string, error) { return "", errors.New("no go command") },
		Log:   slog.New(slog.DiscardHandler)})
}

func found(string) (string, error) { return "/bin/true", nil }

// TestDialRoutesAndRefuses: a cluster's name reaches its server with the
// webhooks its settings call for, whose token names it; unknown names,
// stopped clusters and a missing binary are refused with their reasons.
func TestDialRoutesAndRefuses(t *testing.T) {
	c := &fakeClusters{running: true}
	s := &fakeSupervisor{ep: fakeAPIServer(t)}
	p := newTestPlane(t, c, s, found)
	if !p.Owns(testFQDN) || p.Owns("login.microsoftonline.com") || p.Owns("x.hcp.eastus.azmk8s.io.evil.com") {
		t.Fatal("Owns does not match AKS API server names only")
	}
	conn, err := p.Dial(t.Context(), testFQDN)
	if err != nil {
		t.Fatal(err)
	}
	if s.started.AuthnWebhook == nil || s.started.AuthzWebhook == nil || !strings.HasSuffix(s.started.AuthnWebhook.URL, AuthenticatePath) {
		t.Fatalf("an Entra, Azure RBAC cluster started with webhooks %+v %+v", s.started.AuthnWebhook, s.started.AuthzWebhook)
	}
	r, _ := http.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Authorization", "Bearer "+s.started.AuthnWebhook.Token)
	if id, ok := p.WebhookCluster(r); !ok || id != testClusterID {
		t.Fatalf("webhook token names %q %v", id, ok)
	}
	r.Header.Set("Authorization", "Bearer forged")
	if _, ok := p.WebhookCluster(r); ok {
		t.Fatal("a forged webhook token was taken")
	}

	// A second connection finds the name without listing every cluster.
	conn2, err := p.Dial(t.Context(), testFQDN)
	if err != nil || c.lookups != 1 {
		t.Fatalf("second dial: %v after %d lookups", err, c.lookups)
	}
	conn2.Close()
	conn.Close()
	if s.touched < 2 {
		t.Fatalf("closing connections touched the server %d times", s.touched)
	}

	// Stopping the server (az aks stop, a restart with new settings) ends
	// the connections carried to it: kube-apiserver drains a client's
	// open watch before it exits, so the stop would wait on it.
	held, err := p.Dial(t.Context(), testFQDN)
	if err != nil {
		t.Fatal(err)
	}
	p.stop(testClusterID)
	_ = held.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := held.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a carried connection once its server stopped: %v, want it closed", err)
	}
	// So does aksid's own shutdown.
	held, err = p.Dial(t.Context(), testFQDN)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	_ = held.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := held.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a carried connection once aksid shut down: %v, want it closed", err)
	}

	if _, err := p.Dial(t.Context(), "other-0a1b2c3d.hcp.eastus.azmk8s.io"); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("unknown name: %v", err)
	}
	c.mu.Lock()
	c.running = false
	c.mu.Unlock()
	if _, err := p.Dial(t.Context(), testFQDN); !errors.Is(err, ErrStopped) {
		t.Fatalf("stopped cluster: %v", err)
	}
	c.mu.Lock()
	c.gone = true
	c.mu.Unlock()
	if _, err := p.Dial(t.Context(), testFQDN); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("deleted cluster: %v", err)
	}

	building := newTestPlane(t, &fakeClusters{running: true}, s, func(string) (string, error) { return "", os.ErrNotExist })
	if _, err := building.Dial(t.Context(), testFQDN); !errors.Is(err, ErrBuilding) {
		t.Fatalf("no binary: %v", err)
	}
}

var _ net.Conn = (*touchConn)(nil)

// TestChangeDuringStartRestarts: `az aks update --enable-azure-rbac` right
// after `az aks create`, while the new cluster's server is still starting
// with the settings it read before: the server is restarted with the
// authorization webhook, not left without it.
func TestChangeDuringStartRestarts(t *testing.T) {
	c := &fakeClusters{running: true, noAzureRBAC: true}
	s := &fakeSupervisor{ep: fakeAPIServer(t), gate: make(chan struct{}), begun: make(chan struct{}, 4)}
	p := newTestPlane(t, c, s, found)
	go func() { _, _ = p.Ensure(context.Background(), testClusterID) }()
	<-s.begun
	c.mu.Lock()
	c.noAzureRBAC = false
	c.mu.Unlock()
	p.ClusterSaved(testClusterID)
	time.Sleep(100 * time.Millisecond) // the change is seen while the start runs
	close(s.gate)
	eventually(t, "a second start with the authorization webhook", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.starts == 2 && s.started.AuthzWebhook != nil
	})
	p.stopControllers(testClusterID)
}
