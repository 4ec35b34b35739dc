package kubeplane

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/apiserver"
	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/pki"
)

// One real kube-apiserver serves the package's tests: starting one costs
// seconds. Tests that need a clean slate use their own namespaces or
// reset what they own.
var shared struct {
	once sync.Once
	sup  *apiserver.Supervisor
	kube Kube
	err  error
	dir  string
}

const testClusterID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.sup != nil {
		shared.sup.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// testKube is the shared API server, started at the first call.
func testKube(t *testing.T) Kube {
	t.Helper()
	shared.once.Do(func() { shared.err = startShared() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.kube
}

func startShared() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "kubeplane-test-")
	if err != nil {
		return err
	}
	shared.dir = dir
	bin, err := apiserver.EnsureBinary(ctx, dir, io.Discard)
	if err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	ring, err := keyring.Random()
	if err != nil {
		return err
	}
	ca, err := pki.LoadOrCreateCA(dir, ring, time.Now())
	if err != nil {
		return err
	}
	sup, err := apiserver.New(apiserver.Config{DataDir: dir, Binary: bin, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	shared.sup = sup
	ep, err := sup.Start(ctx, apiserver.Cluster{ID: testClusterID, FQDN: "c1-rg-000000-12345678.hcp.westus2.azmk8s.io", Serving: ca})
	if err != nil {
		return err
	}
	shared.kube = Kube{Base: ep.URL, HTTP: ep.Client}
	return nil
}
