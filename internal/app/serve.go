package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/cloudprovider"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/graph"
	"github.com/aksid/aksid/internal/iamapi"
	"github.com/aksid/aksid/internal/imds"
	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/kubeplane"
	"github.com/aksid/aksid/internal/login"
	"github.com/aksid/aksid/internal/metrics"
	"github.com/aksid/aksid/internal/oidcissuer"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/pki"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/rsasign"
	"github.com/aksid/aksid/internal/server"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/postgres"
	"github.com/aksid/aksid/internal/sts"
)

// Config is `aksid serve`'s configuration.
type Config struct {
	Addr     string // loopback host:port; port 0 picks one
	DataDir  string // state directory
	InMemory bool   // keep the store in memory (keys and CA still in DataDir)
	// Store is a PostgreSQL URL (postgres://…) for replicas sharing one
	// database; empty means SQLite in DataDir.
	Store       string
	KeyRotation time.Duration // signing key period (default 24h)
	// RBACPropagation delays new role assignments on aksid's clock.
	RBACPropagation time.Duration
	// FeatureDelay is how long a preview feature stays Registering.
	FeatureDelay time.Duration
	Refresh      time.Duration // how often replicas re-read keys and clock (default 10s)
	// HTTPProxyAddr is the loopback address of the plain-HTTP proxy port
	// (for http:// proxies and IMDS); "off" disables it.
	HTTPProxyAddr string
	// AdminAddr is the loopback address of the admin listener (plain
	// HTTP: /metrics, /healthz, /readyz); "" any free port, "off" none.
	AdminAddr string
	// PublicURL, when set, is the URL clients reach this replica by,
	// shared with the other replicas behind one loopback balancer
	// (https://127.0.0.1:PORT): issuers and printed URLs name it.
	PublicURL string
	// KubeIdle stops a cluster's API server unused this long (default 15m).
	KubeIdle time.Duration
	// NoKubeBuild runs clusters' API servers only where kube-apiserver is
	// installed, never building it (minutes of CPU): for aksidtest, whose
	// users' tests create clusters without running kubectl.
	NoKubeBuild bool
	// RSABackend is what signs tokens: auto (OpenSSL when it loads, else
	// Go's crypto/rsa; the default), openssl or go.
	RSABackend string
	// NewSigningKey, when set, makes the token signing keys instead of
	// fresh random ones (aksidtest's fixed test keys).
	NewSigningKey func() (*rsa.PrivateKey, error)
	Out           io.Writer // start-up banner
	Log           *slog.Logger
}

// Running is a started aksid.
type Running struct {
	URL    string
	Addr   string
	CAPath string
	// HTTPProxy is the plain-HTTP proxy URL ("" when disabled).
	HTTPProxy string
	// AdminURL is the admin listener's URL ("" when disabled).
	AdminURL string
	Creds    bootstrap.Credentials
	Ops      *Ops
	Keys     *sts.Keys
	DataDir  DataDir
	// Signing is the RSA backend tokens are signed with, and why.
	Signing rsasign.Choice
	// storeDesc names the store for the banner.
	storeDesc string

	rbac *rbac.Service
	kube *kubeplane.Plane
	// kubeCleanup removes an in-memory run's cluster objects.
	kubeCleanup func()
	srv         *server.Server
	admin       *adminListener
	st          store.Store
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	done        chan error
}

// Start brings aksid up and returns once it is serving.
func Start(ctx context.Context, cfg Config) (*Running, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	dd := DataDir(cfg.DataDir)
	if err := dd.secure(cfg.Log); err != nil {
		return nil, err
	}
	kr, err := dd.Keyring()
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	wall := clock.Wall{}
	var ca *pki.CA
	if err := dd.withLock(func() error {
		ca, err = pki.LoadOrCreateCA(string(dd), kr, wall.Now())
		return err
	}); err != nil {
		return nil, fmt.Errorf("certificate authority: %w", err)
	}
	st, err := openStore(ctx, dd, cfg.InMemory, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := checkStoreKey(ctx, st, kr); err != nil {
		st.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	r, err := start(ctx, cfg, dd, kr, ca, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	return r, nil
}

func start(ctx context.Context, cfg Config, dd DataDir, kr *keyring.Keyring, ca *pki.CA, st store.Store) (*Running, error) {
	reg := metrics.New()
	storeDesc := storeDescription(dd, cfg.InMemory, cfg.Store)
	if ps, ok := st.(*postgres.Store); ok {
		ps.OnRetry(reg.StoreRetry)
		storeDesc += fmt.Sprintf(", pool of %d connections", ps.PoolSize())
	}
	st = reg.Store(st)
	wall := clock.Wall{}
	offset, err := loadClockOffset(ctx, st)
	if err != nil {
		return nil, err
	}
	vclock := clock.NewVirtual(wall, offset)
	dir := directory.New(st, vclock, rand.Reader)
	if cfg.Store != "" {
		// Replicas write the same database: a change on one holds on the
		// others at their next request, not their next refresh.
		dir.FollowOtherWriters(func(ctx context.Context) error {
			// A clock moved on another replica counts here at once: it
			// decides whether a secret has expired.
			off, err := loadClockOffset(ctx, st)
			if err == nil {
				vclock.SetOffset(off)
			}
			return err
		})
	}
	creds, err := bootstrap.Ensure(ctx, st, dir, vclock, kr)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	signing, err := rsasign.Choose(cfg.RSABackend)
	if err != nil {
		return nil, err
	}
	reg.SetSigningBackend(string(signing.Backend), signing.Library)
	keys := sts.NewKeys(st, kr, wall, sts.KeyOptions{Period: cfg.KeyRotation, Retain: sts.MaxTokenLifetime + 5*time.Minute, Backend: signing.Backend,
		NewKey: cfg.NewSigningKey})
	if err := keys.Load(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	fetcher := newIssuerFetcher(ca.Cert)
	svc := sts.NewService(sts.Options{Directory: dir, Keys: keys, Store: st, Clock: vclock, Wall: wall, Random: rand.Reader, Fetcher: fetcher, Issued: reg.TokenIssued})

	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:8443"
	}
	if err := requireLoopback("--addr", addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, addrInUse(err, addr, dd)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]"
	}
	url := "https://" + host + ":" + port
	if cfg.PublicURL != "" {
		if url, err = publicURL(cfg.PublicURL); err != nil {
			ln.Close()
			return nil, err
		}
	}
	leaf, err := ca.Leaf([]string{"127.0.0.1", "localhost", "::1"}, wall.Now())
	if err != nil {
		ln.Close()
		return nil, err
	}
	ops := &Ops{st: st, dir: dir, clk: vclock, wall: wall, keys: keys}
	loginMux := http.NewServeMux()
	login.New(svc, keys, cfg.Log).Register(loginMux)
	mux := http.NewServeMux()
	mux.Handle("/", loginMux)
	// The probes answer here too, for whoever knows only the main URL;
	// the metrics only on the admin listener (startAdmin).
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz(st, keys))
	router := server.NewRouter(mux, url)
	router.HandleFace(server.FaceLogin, loginMux) // the admin endpoints are not reachable through the proxy
	armFace, err := registerARM(ctx, router, cfg, st, vclock, dir, keys, cfg.Log, kr, svc, reg.AuthzDecision)
	if err != nil {
		ln.Close()
		return nil, err
	}
	// The cloud provider reaches the faces through the router itself, as a
	// node's would through the proxy, so RBAC decides its every request.
	inProcess := &http.Client{Timeout: 30 * time.Second, Transport: server.InProcess{Handler: server.Middleware(router, cfg.Log)}}
	// Cluster issuers are aksid's own: the token service reads them in process.
	fetcher.inProcess = inProcess.Transport
	if err := registerPortal(ctx, mux, st, dir, ops, url, inProcess, cfg.Log); err != nil {
		ln.Close()
		return nil, fmt.Errorf("portal: %w", err)
	}
	router.HandleFace(server.FaceOIDC, oidcissuer.New(armFace.aks, func(r *http.Request) string { return origin.FromContext(r.Context()).Tunnel }, cfg.Log))
	ops.clusters = &clusterOps{aks: armFace.aks,
		check: cloudprovider.New(cloudprovider.Deps{Clusters: armFace.aks, Tokens: svc, HTTP: inProcess})}
	admin.Register[ClockState, CreatedSP](mux, ops, adminToken(kr), cfg.Log)
	admin.RegisterDirectory(mux, ops, adminToken(kr), cfg.Log)
	hostSvc := armFace.hosts
	if _, err := hostSvc.EnsureDefault(ctx, creds.TenantID, creds.SubscriptionID); err != nil {
		ln.Close()
		return nil, fmt.Errorf("default host: %w", err)
	}
	mi := imds.New(hostSvc, svc, cfg.Log)
	router.HandleFace(server.FaceIMDS, mi)
	router.Handle("msi", server.FaceIMDS, mi.AppService())

	// Microsoft Graph face (/v1.0/…), on a mux of its own under the router.
	graphMux := http.NewServeMux()
	graph.New(graph.Options{Directory: dir, Validator: authn.New(keys, wall),
		Wall: wall, Log: cfg.Log}).Register(graphMux)
	router.Handle("v1.0", server.FaceGraph, graphMux)
	router.Handle("oidc", server.FaceGraph, graphMux) // Graph's /oidc/userinfo
	router.HandleFace(server.FaceGraph, graphMux)
	iamMux := http.NewServeMux()
	iamapi.New(dir, authn.New(keys, wall), cfg.Log).Register(iamMux)
	router.HandleFace(server.FaceIAM, iamMux)

	plain, err := listenLoopback("--http-proxy-addr", cfg.HTTPProxyAddr)
	if err != nil {
		ln.Close()
		return nil, err
	}
	adm, err := startAdmin(cfg.AdminAddr, reg, readyz(st, keys), cfg.Log)
	if err != nil {
		ln.Close()
		if plain != nil {
			plain.Close()
		}
		return nil, err
	}
	ops.hostOps = &hostOps{hosts: hostSvc, httpProxy: plainURL(plain), url: url}

	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Running{rbac: armFace.rbac, URL: url, Addr: ln.Addr().String(), CAPath: ca.Path, Creds: creds, Ops: ops, Keys: keys, DataDir: dd,
		HTTPProxy: plainURL(plain), AdminURL: adm.url, admin: adm, Signing: signing, storeDesc: storeDesc,
		srv: server.NewServer(router, leaf, ca, cfg.Log), st: st, cancel: cancel, done: make(chan error, 1)}
	r.kube, r.kubeCleanup, err = startKube(kubeDeps{dataDir: dd, inMemory: cfg.InMemory, url: url, caPEM: ca.CertPEM, idle: cfg.KubeIdle, router: router, arm: armFace,
		noBuild: cfg.NoKubeBuild, dir: dir, keys: keys, services: ops.clusters.check, log: cfg.Log})
	if err != nil {
		ln.Close()
		if plain != nil {
			plain.Close()
		}
		adm.closeNow()
		return nil, err
	}
	r.srv.SetClusterGate(r.kube)
	r.srv.SetObserver(reg)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.kube.Run(loopCtx, kubeSweep(cfg.KubeIdle))
	}()
	go func() {
		if plain != nil {
			go r.srv.ServePlain(plain)
		}
		err := r.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		r.done <- err
	}()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.maintain(loopCtx, cfg.Refresh, svc, cfg.Log)
	}()
	if err := dd.WriteServerInfo(ServerInfo{URL: url, Addr: r.Addr, HTTPProxy: r.HTTPProxy, AdminURL: r.AdminURL, PID: os.Getpid(), InMemory: cfg.InMemory}); err != nil {
		r.Shutdown(ctx)
		return nil, err
	}
	return r, nil
}

// maintain rotates and refreshes keys, follows clock moves made by other
// processes and forgets spent assertion IDs.
func (r *Running) maintain(ctx context.Context, every time.Duration, svc *sts.Service, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := r.Keys.RotateIfDue(ctx); err != nil {
			log.Error("key rotation failed", "err", err)
		}
		if err := r.Keys.Refresh(ctx); err != nil {
			log.Error("key refresh failed", "err", err)
		}
		r.Ops.dir.ForgetCached()
		if err := r.rbac.Refresh(ctx); err != nil {
			log.Error("rbac refresh failed", "err", err)
		}
		if err := r.Ops.refreshClock(ctx); err != nil {
			log.Error("clock refresh failed", "err", err)
		}
		if err := svc.SweepAssertions(ctx); err != nil {
			log.Error("assertion sweep failed", "err", err)
		}
	}
}

// Shutdown stops serving, waits for the background work and closes the store.
func (r *Running) Shutdown(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	if aerr := r.admin.shutdown(ctx); err == nil {
		err = aerr
	}
	r.cancel()
	r.wg.Wait()
	r.kube.Close()
	r.kubeCleanup()
	r.DataDir.RemoveServerInfo(os.Getpid())
	if cerr := r.st.Close(); err == nil {
		err = cerr
	}
	return err
}

// Done reports the listener's end.
func (r *Running) Done() <-chan error { return r.done }

// Banner prints the start-up summary a person needs.
func (r *Running) Banner(w io.Writer) {
	c := r.Creds
	fmt.Fprintf(w, `aksid is serving on %[1]s
  login (Entra ID):  %[1]s/%[2]s/v2.0   (v1: %[1]s/%[2]s/)
  tenant:            %[2]s (%[3]s)
  subscription:      %[4]s
  admin principal:   AKSID_ADMIN_CLIENT_ID=%[5]s AKSID_ADMIN_CLIENT_SECRET=%[6]s
  admin user:        %[7]s / %[8]s
  trust the CA:      SSL_CERT_FILE=%[9]s (Go)  REQUESTS_CA_BUNDLE=%[9]s (az)
  or run:            eval "$(aksid env --data-dir %[10]s)"
  managed identity:  IMDS through HTTP_PROXY as the host aksid-default-vm; eval "$(aksid host env NAME)" for another
  clusters' API:     %[11]s
  token signing:     RS256 by %[12]s
  store:             %[13]s
  admin listener:    %[14]s
`, r.URL, c.TenantID, bootstrap.TenantDomain, c.SubscriptionID, c.ClientID, c.ClientSecret, c.AdminUPN, c.AdminPassword, r.CAPath, string(r.DataDir), r.kubeStatus(), r.Signing, r.storeDesc, r.adminStatus())
}

// kubeStatus says whether clusters' kubectl will work, and if not yet, why.
func (r *Running) kubeStatus() string {
	bin, err := r.kube.Binary()
	if err == nil {
		return "kube-apiserver " + bin + ", started at each cluster's first connection"
	}
	if errors.Is(err, os.ErrNotExist) {
		return "no kube-apiserver yet: built at the first kubectl (some minutes; `make deps` builds it ahead); clusters work at the ARM level meanwhile"
	}
	return "kube-apiserver unusable: " + err.Error()
}

// adminStatus is the banner's line for the admin listener.
func (r *Running) adminStatus() string {
	if r.AdminURL == "" {
		return "off (--admin-addr off)"
	}
	return r.AdminURL + "/metrics (Prometheus), /healthz, /readyz"
}

// requireLoopback refuses an address for flag that is not this machine's.
// publicURL checks --public-url: https on a loopback name and a port,
// nothing else, since it becomes every issuer's base.
func publicURL(raw string) (string, error) {
	u, err := neturl.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Port() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("--public-url %q: want https://127.0.0.1:PORT (or localhost, [::1])", raw)
	}
	if err := requireLoopback("--public-url", u.Host); err != nil {
		return "", err
	}
	return "https://" + u.Host, nil
}

func requireLoopback(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %w", flag, addr, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("%s %q: port must be a number", flag, addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s %q: aksid listens on loopback only (127.0.0.1, ::1 or localhost)", flag, addr)
	}
	return nil
}
