package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/apiserver"
	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/azrbac"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/guard"
	"github.com/aksid/aksid/internal/kubeapi"
	"github.com/aksid/aksid/internal/kubeplane"
	"github.com/aksid/aksid/internal/server"
	"github.com/aksid/aksid/internal/sts"
)

// kubeDeps are what the clusters' Kubernetes APIs are wired from.
type kubeDeps struct {
	dataDir  DataDir
	inMemory bool   // the clusters end with the process: so do their objects
	url      string // aksid's own URL, which the API servers call back
	caPEM    []byte
	idle     time.Duration
	noBuild  bool // never build kube-apiserver
	router   *server.Router
	arm      *armParts
	dir      *directory.Directory
	keys     *sts.Keys
	services kubeplane.LoadBalancers
	log      *slog.Logger
}

// startKube makes the plane that runs each cluster's kube-apiserver and
// routes the webhooks those servers call: token review (Guard's part) and
// Azure RBAC decisions.
func startKube(d kubeDeps) (*kubeplane.Plane, func(), error) {
	wall := clock.Wall{}
	kubeDir, cleanup := string(d.dataDir), func() {}
	if d.inMemory {
		// A throwaway store's clusters must not meet the objects of an
		// earlier run's clusters of the same name.
		dir, err := os.MkdirTemp(string(d.dataDir), "kube-in-memory-")
		if err != nil {
			return nil, nil, err
		}
		kubeDir, cleanup = dir, func() { os.RemoveAll(dir) }
	}
	sup, err := apiserver.New(apiserver.Config{DataDir: kubeDir, Clock: wall, IdleAfter: d.idle,
		Progress: logWriter{d.log}, Log: d.log})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	cfg := kubeplane.Config{Supervisor: sup, Clusters: d.arm.aks, DataDir: kubeDir,
		WebhookBase: d.url, WebhookCA: d.caPEM, Services: d.services, Progress: logWriter{d.log}, Log: d.log}
	if d.noBuild {
		cfg.Build = func(context.Context, string, io.Writer) (string, error) {
			return "", errNoKubeBuild
		}
	}
	plane := kubeplane.New(cfg)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(d.url, "https://"))
	reviewer := guard.New(guard.Options{Validator: authn.New(d.keys, wall), Groups: d.dir, Apps: d.dir, Wall: wall,
		IssuerBases: []string{d.url, "https://localhost:" + port}})
	mux := http.NewServeMux()
	mux.Handle(kubeplane.AuthenticatePath, kubeapi.NewAuthenticateHandler(reviewer, entraClusters{d.arm.aks}, plane.WebhookCluster, d.log))
	mux.Handle(kubeplane.AuthorizePath, kubeapi.NewAuthorizeHandler(azrbac.New(d.arm.rbac), plane.WebhookCluster, d.log))
	mux.Handle(kubeplane.MutatePath, kubeapi.NewMutateHandler(podIdentities{plane, d.arm.aks}, plane.WebhookCluster, d.log))
	d.router.Handle(strings.Split(strings.Trim(kubeplane.AuthenticatePath, "/"), "/")[0], "kubeapi", mux)
	d.arm.aks.Observe(plane)
	return plane, cleanup, nil
}

var errNoKubeBuild = errors.New("kube-apiserver is not installed, and this aksid does not build it (`make deps` builds it)")

// entraClusters reads a cluster's Entra settings for Guard.
type entraClusters struct{ s *aks.Service }

func (e entraClusters) EntraCluster(ctx context.Context, id string) (guard.Cluster, error) {
	spec, err := e.s.KubeSpec(ctx, id)
	if err != nil {
		return guard.Cluster{}, err
	}
	model, err := e.s.Get(ctx, id)
	if err != nil {
		return guard.Cluster{}, err
	}
	return guard.ClusterFrom(spec.ID, spec.TenantID, model)
}

// podIdentities reads what the workload identity webhook needs.
type podIdentities struct {
	plane *kubeplane.Plane
	aks   *aks.Service
}

func (p podIdentities) ServiceAccountAnnotations(ctx context.Context, cluster, namespace, name string) (map[string]string, error) {
	a, err := p.plane.ServiceAccount(ctx, cluster, namespace, name)
	if kubeplane.IsNotFound(err) {
		return nil, kubeapi.ErrNoServiceAccount
	}
	return a, err
}

func (p podIdentities) TenantOf(ctx context.Context, cluster string) (string, error) {
	spec, err := p.aks.KubeSpec(ctx, cluster)
	return spec.TenantID, err
}

// logWriter sends the kube-apiserver build's progress lines to the log.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line != "" {
			w.log.Info("kube-apiserver build", "progress", line)
		}
	}
	return len(b), nil
}

var _ io.Writer = logWriter{}

// kubeSweep is how often idle API servers are looked for: a quarter of
// the idle period, between a second and half a minute.
func kubeSweep(idle time.Duration) time.Duration {
	if idle <= 0 {
		return 30 * time.Second
	}
	return min(max(idle/4, time.Second), 30*time.Second)
}
