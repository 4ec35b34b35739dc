// Package apiserver builds, finds and runs the Kubernetes project's own API server (kube-apiserver over one etcd per data directory) for each of aksid's managed clusters.
package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/aksid/aksid/internal/clock"
)

// Config sets up a Supervisor.
type Config struct {
	// DataDir is aksid's data directory: etcd's data and each cluster's
	// run files live under kube/, a built kube-apiserver under bin/.
	DataDir string
	// Binary is the kube-apiserver to run; "" finds or builds it
	// (FindBinary, EnsureBinary) at the first start.
	Binary string
	// Etcd is the etcd to run; "" is etcd on PATH (Debian's etcd-server).
	Etcd string
	// Clock decides idleness; nil is the wall clock.
	Clock clock.Clock
	// IdleAfter stops a server unused this long (StopIdle); 0 is 15 minutes.
	IdleAfter time.Duration
	// Progress receives the build's progress lines; nil discards them.
	Progress io.Writer
	// Log receives starts and stops; nil is slog's default.
	Log *slog.Logger
}

// Supervisor starts, stops and deletes the clusters' API servers. etcd
// runs while at least one API server (or a Delete) needs it.
type Supervisor struct {
	cfg Config
	own *localCA // etcd's trust and aksid's own identity; never on disk
	me  pemPair  // aksid's client certificate: system:masters

	binMu sync.Mutex // one build at a time
	mu    sync.Mutex // guards the fields below
	etcd  *etcd
	users int // holders of etcd: running servers and calls in progress
	insts map[string]*instance
}

// instance is one cluster's server; mu serialises its start and stop.
type instance struct {
	id       string // the resource ID, as first asked for
	mu       sync.Mutex
	p        *proc
	ep       *Endpoint
	lastUsed time.Time // guarded by Supervisor.mu
	heapAt   time.Time // when its live heap was last recorded; guarded by mu
}

// Endpoint is a running API server.
type Endpoint struct {
	URL   string        // https://127.0.0.1:<port>
	CA    []byte        // PEM of the serving certificate's CA
	Ready time.Duration // from process start to /readyz answering 200
	// First is true at the first start on the cluster's data: nothing
	// aksid writes into a cluster is there yet.
	First bool
	// Seeded is true when this start wrote the bootstrap seed and the
	// cluster's Objects into its empty data.
	Seeded bool
	// Client speaks to the server as aksid itself, in system:masters (for
	// aksid's controllers: nodes, services); its 30 s timeout suits
	// requests, not watches.
	Client *http.Client
}

// New makes a Supervisor; nothing starts until Start.
func New(cfg Config) (*Supervisor, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("apiserver: no data directory")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Wall{}
	}
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = 15 * time.Minute
	}
	if cfg.Etcd == "" {
		cfg.Etcd = "etcd"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	own, err := newLocalCA("aksid cluster supervisor")
	if err != nil {
		return nil, err
	}
	me, err := own.issue("aksid", []string{"system:masters"}, nil)
	if err != nil {
		return nil, err
	}
	return &Supervisor{cfg: cfg, own: own, me: me, insts: map[string]*instance{}}, nil
}

func (s *Supervisor) inst(id string) *instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := clusterKey(id)
	in := s.insts[k]
	if in == nil {
		in = &instance{id: id}
		s.insts[k] = in
	}
	return in
}

func (s *Supervisor) clusterDir(id string) string {
	return filepath.Join(s.cfg.DataDir, "kube", "clusters", clusterKey(id))
}

// Start runs the cluster's API server, or returns the running one, and
// marks it used.
func (s *Supervisor) Start(ctx context.Context, c Cluster) (*Endpoint, error) {
	in := s.inst(c.ID)
	in.mu.Lock()
	defer in.mu.Unlock()
	s.touch(in)
	if in.p != nil && in.p.exited() == nil {
		return in.ep, nil
	}
	if in.p != nil { // it died: give back its hold on etcd
		in.p, in.ep = nil, nil
		s.releaseEtcd()
	}
	bin, err := s.binary(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.acquireEtcd()
	if err != nil {
		return nil, err
	}
	p, ep, err := s.launch(ctx, c, bin, e)
	if err != nil {
		// Its run files hold the unsealed service-account key.
		os.RemoveAll(filepath.Join(s.clusterDir(c.ID), "run"))
		s.releaseEtcd()
		return nil, err
	}
	in.p, in.ep = p, ep
	s.cfg.Log.Info("kube-apiserver ready", "cluster", c.ID, "url", ep.URL, "ready", ep.Ready.Round(time.Millisecond))
	return ep, nil
}

func (s *Supervisor) launch(ctx context.Context, c Cluster, bin string, e *etcd) (*proc, *Endpoint, error) {
	dir := s.clusterDir(c.ID)
	run := filepath.Join(dir, "run")
	if err := os.RemoveAll(run); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(run, 0o700); err != nil {
		return nil, nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	l, err := prepare(ctx, c, run, port, e, s.own)
	if err != nil {
		return nil, nil, err
	}
	tc, err := clientTLS(s.me, l.caPEM)
	if err != nil {
		return nil, nil, err
	}
	ep := &Endpoint{URL: fmt.Sprintf("https://127.0.0.1:%d", port), CA: l.caPEM,
		Client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}}
	start := time.Now()
	p, err := startProc(bin, l.args, []string{memoryLimit(dir), limitAfterStart + "=1"}, filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return nil, nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := e.wait(wctx); err != nil {
		p.stop(5 * time.Second)
		return nil, nil, err
	}
	marker := filepath.Join(dir, "bootstrapped")
	path, seeded := "/readyz", ""
	_, err = os.Stat(marker)
	ep.First = err != nil
	if !ep.First {
		path = readyzAfterBootstrap
	} else if seedBootstrap {
		// Before the server writes here: it does once it serves, ~1 s
		// after etcd does. Were it first, the seed would not be written.
		ok, version, err := seedBootstrapObjects(wctx, e, etcdPrefix(clusterKey(c.ID)), c.Objects)
		if err != nil {
			// Not fatal: the server makes them, a second or two later.
			s.cfg.Log.Warn("bootstrap objects not seeded", "cluster", c.ID, "err", err)
		} else if ok {
			path, seeded = readyzAfterBootstrap, version
			ep.Seeded = true
		}
	}
	if err := waitUntil(wctx, p, func(ctx context.Context) bool { return ready(ctx, ep, path) }); err != nil {
		p.stop(5 * time.Second)
		return nil, nil, err
	}
	if seeded != "" && serverVersion(wctx, ep) != seeded {
		// Another release's hook may add to what was seeded: wait for it.
		if err := waitUntil(wctx, p, func(ctx context.Context) bool { return ready(ctx, ep, "/readyz") }); err != nil {
			p.stop(5 * time.Second)
			return nil, nil, err
		}
	}
	if err := waitUntil(wctx, p, func(ctx context.Context) bool { return namespacesMade(ctx, ep) }); err != nil {
		p.stop(5 * time.Second)
		return nil, nil, err
	}
	ep.Ready = time.Since(start)
	p.started() // its memory limit applies from now
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		p.stop(5 * time.Second)
		return nil, nil, err
	}
	// Read at start and never again: the unsealed key leaves the disk.
	if err := os.Remove(l.keyFile); err != nil {
		p.stop(5 * time.Second)
		return nil, nil, err
	}
	return p, ep, nil
}

// readyzAfterBootstrap leaves out the two checks that wait a fixed second
// (upstream polls every 1 s, first after 1 s) for the default RBAC roles
// and priority classes: once a cluster's first start has made the roles,
// or aksid has seeded them (seedBootstrapObjects), they are in etcd, and the server
// is ready that second (on a first start, two) sooner. The priority
// classes nothing of aksid's needs at once: they follow within a second.
const readyzAfterBootstrap = "/readyz?exclude=poststarthook/rbac/bootstrap-roles&exclude=poststarthook/scheduling/bootstrap-system-priority-classes"

// serverVersion is the server's release (its /version gitVersion), or ""
// when it does not say.
func serverVersion(ctx context.Context, ep *Endpoint) string {
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if !getOK(ctx, ep, "/version", &v) {
		return ""
	}
	return v.GitVersion
}

func ready(ctx context.Context, ep *Endpoint, path string) bool { return getOK(ctx, ep, path, nil) }

// getOK tells whether GET path answered 200 and, with out, whether its
// body decoded into out.
func getOK(ctx context.Context, ep *Endpoint, path string, out any) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+path, nil)
	if err != nil {
		return false
	}
	resp, err := ep.Client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	return out == nil || json.NewDecoder(resp.Body).Decode(out) == nil
}

// binary is the configured kube-apiserver, else one found or built.
func (s *Supervisor) binary(ctx context.Context) (string, error) {
	s.binMu.Lock()
	defer s.binMu.Unlock()
	if s.cfg.Binary == "" {
		b, err := EnsureBinary(ctx, s.cfg.DataDir, s.cfg.Progress)
		if err != nil {
			return "", err
		}
		s.cfg.Binary = b
	}
	return s.cfg.Binary, nil
}

// acquireEtcd starts etcd if no one holds it and counts one more holder;
// etcd may not serve yet (etcd.wait).
func (s *Supervisor) acquireEtcd() (*etcd, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.etcd != nil && s.etcd.p.exited() != nil {
		s.cfg.Log.Warn("etcd exited; starting it again", "log", s.etcd.p.log)
		s.etcd = nil
	}
	if s.etcd == nil {
		bin, err := exec.LookPath(s.cfg.Etcd)
		if err != nil {
			return nil, fmt.Errorf("apiserver: no etcd (Debian: apt-get install etcd-server): %w", err)
		}
		e, err := startEtcd(bin, filepath.Join(s.cfg.DataDir, "kube", "etcd"), s.own, s.cfg.Log)
		if err != nil {
			return nil, err
		}
		s.etcd = e
	}
	s.users++
	return s.etcd, nil
}

// releaseEtcd drops a hold and stops etcd when it was the last, so an
// idle aksid runs nothing beside itself.
func (s *Supervisor) releaseEtcd() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users--; s.users == 0 && s.etcd != nil {
		s.etcd.stop()
		s.etcd = nil
	}
}

func (s *Supervisor) touch(in *instance) {
	s.mu.Lock()
	in.lastUsed = s.cfg.Clock.Now()
	s.mu.Unlock()
}

// Touch marks the cluster's server used now (each proxied connection
// should), putting off its idle stop.
func (s *Supervisor) Touch(id string) {
	s.touch(s.inst(id))
}

// Running returns the cluster's server if it runs.
func (s *Supervisor) Running(id string) (*Endpoint, bool) {
	in := s.inst(id)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.p == nil || in.p.exited() != nil {
		return nil, false
	}
	return in.ep, true
}

// Stop stops the cluster's server; its data stays in etcd.
func (s *Supervisor) Stop(id string) {
	in := s.inst(id)
	in.mu.Lock()
	defer in.mu.Unlock()
	s.stopLocked(in, true)
}

// stopLocked stops in's server; record first keeps its live heap for the
// next start. Not in aksid's own shutdown (Close): a kube-apiserver
// signalled later there may hang on its bootstrap hooks until killed.
func (s *Supervisor) stopLocked(in *instance, record bool) {
	if in.p == nil {
		return
	}
	if record && in.p.exited() == nil {
		s.recordHeap(in.id, in.ep)
	}
	// aksid's own idle connections go first. Go's transport keeps a
	// connection it dialled for a request that another connection then
	// served; the server sees it as new, without a request, and its
	// graceful shutdown waits up to 5 s before it closes such a one.
	in.ep.Client.CloseIdleConnections()
	if in.p.stop(15 * time.Second) {
		s.cfg.Log.Warn("kube-apiserver did not stop within 15 s of SIGTERM: killed", "cluster", in.id, "log", in.p.log)
	}
	in.p, in.ep = nil, nil
	os.RemoveAll(filepath.Join(s.clusterDir(in.id), "run"))
	s.releaseEtcd()
	s.cfg.Log.Info("kube-apiserver stopped", "cluster", in.id)
}

// StopIdle stops every server unused for IdleAfter by the Supervisor's
// clock and returns how many it stopped. Of those it keeps, it records
// the live heap (recordHeaps). before, when not nil, runs first for each
// server it stops, while no new use can start it: kube-apiserver drains
// open watches before it exits, so whoever holds one (aksid's own
// controllers) must end it there, or the stop waits out the watch.
func (s *Supervisor) StopIdle(before func(id string)) int {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	var idle, used []*instance
	for _, in := range s.insts {
		if now.Sub(in.lastUsed) >= s.cfg.IdleAfter {
			idle = append(idle, in)
		} else {
			used = append(used, in)
		}
	}
	s.mu.Unlock()
	s.recordHeaps(used, now)
	n := 0
	for _, in := range idle {
		in.mu.Lock()
		// Checked again: it may have been used since.
		if in.p != nil && s.idleSince(in, now) {
			if before != nil {
				before(in.id)
			}
			s.stopLocked(in, true)
			n++
		}
		in.mu.Unlock()
	}
	return n
}

func (s *Supervisor) idleSince(in *instance, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(in.lastUsed) >= s.cfg.IdleAfter
}

// Delete stops the cluster's server and removes its data: its etcd
// prefix and its directory.
func (s *Supervisor) Delete(ctx context.Context, id string) error {
	in := s.inst(id)
	in.mu.Lock()
	defer in.mu.Unlock()
	s.stopLocked(in, false)
	e, err := s.acquireEtcd()
	if err != nil {
		return err
	}
	defer s.releaseEtcd()
	if err := e.wait(ctx); err != nil {
		return err
	}
	if err := e.deletePrefix(ctx, etcdPrefix(clusterKey(id))+"/"); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.insts, clusterKey(id))
	s.mu.Unlock()
	return os.RemoveAll(s.clusterDir(id))
}

// Close stops every server and etcd.
func (s *Supervisor) Close() {
	s.mu.Lock()
	ins := make([]*instance, 0, len(s.insts))
	for _, in := range s.insts {
		ins = append(ins, in)
	}
	s.mu.Unlock()
	for _, in := range ins {
		in.mu.Lock()
		s.stopLocked(in, false)
		in.mu.Unlock()
	}
}

// Memory is the resident memory, in bytes, of a cluster's API server and
// of the etcd all clusters share (0 for what is not running).
type Memory struct {
	APIServer, Etcd int64
}

// MemoryOf reads the cluster's figures from /proc.
func (s *Supervisor) MemoryOf(id string) Memory {
	var m Memory
	in := s.inst(id)
	in.mu.Lock()
	if in.p != nil {
		m.APIServer = in.p.rss()
	}
	in.mu.Unlock()
	s.mu.Lock()
	if s.etcd != nil {
		m.Etcd = s.etcd.p.rss()
	}
	s.mu.Unlock()
	return m
}
