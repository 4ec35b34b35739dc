// Package kubeplane runs each managed cluster's Kubernetes control plane: it starts the cluster's own kube-apiserver on demand, carries connections to it, and keeps its admin binding, nodes and load-balancer services in step with the cluster's ARM record.
package kubeplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/apiserver"
)

// Clusters reads managed clusters (aks.Service).
type Clusters interface {
	KubeSpec(ctx context.Context, id string) (aks.KubeSpec, error)
	ClusterByFQDN(ctx context.Context, host string) (string, error)
}

// Supervisor runs API servers (apiserver.Supervisor).
type Supervisor interface {
	Start(ctx context.Context, c apiserver.Cluster) (*apiserver.Endpoint, error)
	Running(id string) (*apiserver.Endpoint, bool)
	Touch(id string)
	Stop(id string)
	StopIdle(before func(id string)) int
	Delete(ctx context.Context, id string) error
	Close()
}

// Config sets up a Plane.
type Config struct {
	Supervisor Supervisor
	Clusters   Clusters
	// DataDir is where a kube-apiserver is found or built.
	DataDir string
	// WebhookBase is aksid's own URL, which the API servers call back for
	// token reviews and Azure RBAC decisions; WebhookCA its CA (PEM).
	WebhookBase string
	WebhookCA   []byte
	// Services turns LoadBalancer Services into Azure actions; nil
	// leaves them pending.
	Services LoadBalancers
	// FindBinary finds kube-apiserver without building it; Build builds
	// it (both apiserver's by default).
	FindBinary func(dataDir string) (string, error)
	Build      func(ctx context.Context, dataDir string, progress io.Writer) (string, error)
	Progress   io.Writer
	Log        *slog.Logger
}

// Paths of the webhooks the API servers call, under aksid's URL.
const (
	AuthenticatePath = "/kubeapi/authenticate"
	AuthorizePath    = "/kubeapi/authorize"
	MutatePath       = "/kubeapi/mutate"
)

// Refusals Dial gives, for the proxy to word.
var (
	// ErrNoCluster: the host names no managed cluster.
	ErrNoCluster = errors.New("no managed cluster has this API server name")
	// ErrStopped: the cluster is stopped (az aks stop).
	ErrStopped = errors.New("the managed cluster is stopped; start it with `az aks start`")
	// ErrBuilding: the API server binary is being built, first use only.
	ErrBuilding = errors.New("aksid is building kube-apiserver for its first use (some minutes; progress in aksid's log); clusters work at the ARM level meanwhile: try again when it is done")
)

// hostPattern matches AKS's API server names (<prefix>-<hash>.hcp.<region>.azmk8s.io).
var hostPattern = regexp.MustCompile(`^[a-z0-9-]+\.hcp\.[a-z0-9]+\.azmk8s\.io$`)

// Plane starts clusters' API servers and runs aksid's controllers in them.
type Plane struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	tokens map[string]string              // webhook bearer token → cluster ID
	byID   map[string]string              // lower(cluster ID) → its token
	live   map[string]*live               // lower(cluster ID) → what runs for its current API server
	open   map[string]map[*touchConn]bool // lower(cluster ID) → connections carried now
	hosts  map[string]string              // API server name → cluster ID, as last found
	// reconciled is, per cluster, what its objects were last made from
	// (reconcileKey), while aksid runs.
	reconciled map[string]string
	locks      map[string]*sync.Mutex
	build      chan struct{} // closed when a started build ends; nil when none started
}

// live is one start of a cluster's API server and the controllers bound
// to it.
type live struct {
	ep     *apiserver.Endpoint
	shape  string // the settings the server was started with (shapeOf)
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Plane; nothing runs until a cluster is reached.
func New(cfg Config) *Plane {
	if cfg.FindBinary == nil {
		cfg.FindBinary = apiserver.FindBinary
	}
	if cfg.Build == nil {
		cfg.Build = apiserver.EnsureBinary
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Plane{cfg: cfg, log: cfg.Log, tokens: map[string]string{}, byID: map[string]string{},
		live: map[string]*live{}, open: map[string]map[*touchConn]bool{}, hosts: map[string]string{}, reconciled: map[string]string{},
		locks: map[string]*sync.Mutex{}}
}

// Owns tells whether host is an AKS API server name, which the proxy
// then hands to Dial instead of refusing.
func (p *Plane) Owns(host string) bool {
	return hostPattern.MatchString(strings.ToLower(strings.TrimSuffix(host, ".")))
}

// Binary reports the kube-apiserver in use, or why there is none yet.
func (p *Plane) Binary() (string, error) { return p.cfg.FindBinary(p.cfg.DataDir) }

// Dial reaches the API server of the cluster named host, starting it
// first if it is not running. The connection carries the client's TLS
// to the API server untouched.
func (p *Plane) Dial(ctx context.Context, host string) (net.Conn, error) {
	spec, err := p.clusterByHost(ctx, host)
	if err != nil {
		return nil, err
	}
	id := spec.ID
	ep, err := p.ensure(ctx, spec)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(ep.URL)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	k := strings.ToLower(id)
	tc := &touchConn{Conn: c}
	tc.touch = func() {
		p.mu.Lock()
		delete(p.open[k], tc)
		p.mu.Unlock()
		p.cfg.Supervisor.Touch(id)
	}
	p.mu.Lock()
	if p.open[k] == nil {
		p.open[k] = map[*touchConn]bool{}
	}
	p.open[k][tc] = true
	p.mu.Unlock()
	return tc, nil
}

// clusterByHost finds the cluster an API server name belongs to,
// remembering which it was: every kubectl call opens connections, and
// listing the clusters for each would read them all.
func (p *Plane) clusterByHost(ctx context.Context, host string) (aks.KubeSpec, error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	p.mu.Lock()
	id, ok := p.hosts[host]
	p.mu.Unlock()
	if ok {
		// Still that cluster's name? It may have been deleted since.
		if spec, err := p.cfg.Clusters.KubeSpec(ctx, id); err == nil && strings.EqualFold(spec.FQDN, host) {
			return spec, nil
		}
	}
	id, err := p.cfg.Clusters.ClusterByFQDN(ctx, host)
	if err != nil {
		return aks.KubeSpec{}, err
	}
	p.mu.Lock()
	if id == "" {
		delete(p.hosts, host)
	} else {
		p.hosts[host] = id
	}
	p.mu.Unlock()
	if id == "" {
		return aks.KubeSpec{}, ErrNoCluster
	}
	return p.cfg.Clusters.KubeSpec(ctx, id)
}

// touchConn marks its cluster used when it closes, so an idle stop counts
// from the end of the last connection, not its start.
type touchConn struct {
	net.Conn
	once  sync.Once
	touch func()
}

func (c *touchConn) Close() error {
	c.once.Do(c.touch)
	return c.Conn.Close()
}

func (p *Plane) lock(id string) *sync.Mutex {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := strings.ToLower(id)
	if p.locks[k] == nil {
		p.locks[k] = &sync.Mutex{}
	}
	return p.locks[k]
}

// Ensure starts the cluster's API server if it is not running, with its
// bootstrap objects and controllers, and returns it.
func (p *Plane) Ensure(ctx context.Context, id string) (*apiserver.Endpoint, error) {
	spec, err := p.cfg.Clusters.KubeSpec(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.ensure(ctx, spec)
}

// ensure is Ensure for a cluster already read.
func (p *Plane) ensure(ctx context.Context, spec aks.KubeSpec) (ep *apiserver.Endpoint, err error) {
	id := spec.ID
	if !spec.Running {
		return nil, ErrStopped
	}
	if err := p.binaryReady(); err != nil {
		return nil, err
	}
	mu := p.lock(id)
	mu.Lock()
	defer mu.Unlock()
	k := strings.ToLower(id)
	p.mu.Lock()
	cur := p.live[k]
	p.mu.Unlock()
	if cur != nil && cur.shape != shapeOf(spec) {
		// A change that needs a restart (a rotated CA) which the observer
		// has yet to act on, or spec read before the server's own: read
		// again under the lock, so a connection after the change reaches
		// a server with it and none goes back to an older one.
		if spec, err = p.cfg.Clusters.KubeSpec(ctx, id); err != nil {
			return nil, err
		}
		if !spec.Running {
			return nil, ErrStopped
		}
		if cur.shape != shapeOf(spec) {
			p.stopControllers(id)
			p.closeCarried(id)
			p.cfg.Supervisor.Stop(id)
			cur = nil
		}
	}
	c := p.apiCluster(spec)
	if c.Objects, err = p.firstObjects(spec, time.Now()); err != nil {
		return nil, err
	}
	ep, err = p.cfg.Supervisor.Start(ctx, c)
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.ep == ep {
		return ep, nil
	}
	if cur != nil {
		cur.stop()
	}
	kube := Kube{Base: ep.URL, HTTP: ep.Client}
	// What AKS makes at creation: bound once per start, so a change in ARM
	// while the server was stopped shows at its next start. When they are
	// in the server's data already (written with the seed at a first
	// start, or made before an idle stop or az aks stop with nothing
	// changed in ARM since), the check runs beside the first connection,
	// not before it.
	p.mu.Lock()
	unchanged := ep.Seeded || !ep.First && p.reconciled[k] == reconcileKey(spec, p.cfg.WebhookBase)
	p.mu.Unlock()
	if !unchanged {
		if err := p.reconcile(ctx, kube, spec); err != nil {
			return nil, fmt.Errorf("kubeplane: bootstrap of %s: %w", id, err)
		}
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &live{ep: ep, shape: shapeOf(spec), cancel: cancel, done: make(chan struct{})}
	p.mu.Lock()
	p.live[k] = l
	p.mu.Unlock()
	go func() {
		defer close(l.done)
		if unchanged {
			if err := p.reconcile(lctx, kube, spec); err != nil && lctx.Err() == nil {
				p.log.Warn("cluster objects not in step with ARM", "cluster", id, "err", err)
			}
		}
		p.runControllers(lctx, kube, spec)
	}()
	return ep, nil
}

func (l *live) stop() {
	l.cancel()
	<-l.done
}

// runControllers runs what watches the cluster while its server runs:
// namespaces' defaults and deletions, pods' reason for staying Pending,
// and LoadBalancer Services.
func (p *Plane) runControllers(ctx context.Context, k Kube, spec aks.KubeSpec) {
	var ca []byte
	if spec.CA != nil {
		ca = spec.CA.PEM()
	}
	log := p.log.With("cluster", spec.ID)
	var wg sync.WaitGroup
	wg.Go(func() { runNamespaces(ctx, k, ca, log) })
	wg.Go(func() { runPods(ctx, k, log) })
	if p.cfg.Services != nil {
		runServices(ctx, k, spec.ID, p.cfg.Services, p.log)
	}
	wg.Wait()
}

// apiCluster is what the Supervisor starts the cluster's server with.
func (p *Plane) apiCluster(spec aks.KubeSpec) apiserver.Cluster {
	c := apiserver.Cluster{ID: spec.ID, FQDN: spec.FQDN, Serving: spec.CA, ClientCA: spec.ClientCA, Issuer: spec.Issuer, VerifyKeys: spec.PreviousKeys}
	if spec.Key != nil {
		c.Key = spec.Key
	}
	token := p.token(spec.ID)
	if spec.Entra {
		c.AuthnWebhook = &apiserver.Webhook{URL: p.cfg.WebhookBase + AuthenticatePath, CA: p.cfg.WebhookCA, Token: token}
	}
	if spec.AzureRBAC {
		c.AuthzWebhook = &apiserver.Webhook{URL: p.cfg.WebhookBase + AuthorizePath, CA: p.cfg.WebhookCA, Token: token}
	}
	if p.cfg.WebhookBase != "" {
		// Always: the workload identity webhook comes and goes as an
		// object in the cluster, without a restart.
		c.AdmissionWebhook = &apiserver.Webhook{URL: p.cfg.WebhookBase + MutatePath, CA: p.cfg.WebhookCA, Token: token}
	}
	return c
}

// token is the bearer token the cluster's API server presents to the
// webhooks: random, held in memory only, as the servers end with aksid.
func (p *Plane) token(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := strings.ToLower(id)
	if t, ok := p.byID[k]; ok {
		return t
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("kubeplane: random source failed")
	}
	t := hex.EncodeToString(b)
	p.byID[k], p.tokens[t] = t, id
	return t
}

// WebhookCluster names the cluster whose API server sent r, by the bearer
// token it presents; false for any other caller.
func (p *Plane) WebhookCluster(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.tokens[tok]
	return id, ok
}

// binaryReady is nil when kube-apiserver can run; otherwise it starts
// its build (once) in the background and answers ErrBuilding, so the
// first kubectl learns why instead of hanging for minutes.
func (p *Plane) binaryReady() error {
	if _, err := p.cfg.FindBinary(p.cfg.DataDir); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.build == nil {
		p.build = make(chan struct{})
		p.log.Warn("no kube-apiserver yet: building it (some minutes, once per data directory)")
		go func() {
			defer close(p.build)
			if _, err := p.cfg.Build(context.Background(), p.cfg.DataDir, p.cfg.Progress); err != nil {
				p.log.Error("kube-apiserver build failed", "err", err)
				return
			}
			p.log.Info("kube-apiserver built")
		}()
	}
	select {
	case <-p.build:
		p.build = nil // it failed (FindBinary found nothing): the next try builds again
	default:
	}
	return ErrBuilding
}
