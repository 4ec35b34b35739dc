package apiserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// etcd is the one etcd of a data directory: every cluster's API server
// stores under its own prefix in it. It listens on loopback and takes
// only clients holding a certificate from the Supervisor's memory-only CA.
type etcd struct {
	p         *proc
	url       string
	client    *http.Client
	ca        []byte        // PEM of the CA its server certificate chains to
	apiClient pemPair       // the API servers' client certificate
	up        chan struct{} // closed once etcd serves, or will not
	upErr     error         // why it will not; set before up closes
}

// etcdEnv collects etcd's garbage at a quarter's growth, not double:
// its live heap is ~8 MB, so this costs little CPU, and RSS with one
// cluster running went 36-38 -> 31-32 MB (at rest: ~2% of a core, the
// same as before).
var etcdEnv = []string{"GOGC=25"}

// startEtcd runs etcd over dir/data, its run files in dir/run. It does
// not wait for etcd to serve (wait does): an API server started meanwhile
// retries its connection, so etcd's start (~0.1 s) overlaps its own.
func startEtcd(bin, dir string, ca *localCA, log *slog.Logger) (*etcd, error) {
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		return nil, err
	}
	server, err := ca.issue("etcd", nil, []string{"127.0.0.1", "localhost"})
	if err != nil {
		return nil, err
	}
	client, err := ca.issue("kube-apiserver-etcd-client", nil, nil)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"ca.pem": ca.pem, "server.pem": server.cert, "server-key.pem": server.key}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(run, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	cport, err := freePort()
	if err != nil {
		return nil, err
	}
	pport, err := freePort()
	if err != nil {
		return nil, err
	}
	url := "https://127.0.0.1:" + strconv.Itoa(cport)
	peer := "http://127.0.0.1:" + strconv.Itoa(pport)
	args := []string{
		"--name", "aksid", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", url, "--advertise-client-urls", url,
		// A single member: the peer URL is never dialled, but etcd needs one.
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "aksid=" + peer,
		"--client-cert-auth", "--trusted-ca-file", filepath.Join(run, "ca.pem"),
		"--cert-file", filepath.Join(run, "server.pem"), "--key-file", filepath.Join(run, "server-key.pem"),
		// Clusters are small; a smaller WAL snapshot interval keeps the
		// memory etcd holds for replay down.
		"--snapshot-count", "5000",
		// The default RBAC objects (~130) are seeded in one transaction.
		"--max-txn-ops", "1024",
		// A lone member still waits out an election timeout after a
		// restart (1 s by default); on loopback 100 ms is plenty.
		"--heartbeat-interval", "10", "--election-timeout", "100",
		"--auto-compaction-mode", "periodic", "--auto-compaction-retention", "1h",
		"--log-level", "warn", "--logger", "zap",
	}
	start := time.Now()
	p, err := startProc(bin, args, etcdEnv, filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, fmt.Errorf("apiserver: starting etcd (Debian: apt-get install etcd-server): %w", err)
	}
	p.started() // etcd reads no stdin
	tc, err := clientTLS(client, ca.pem)
	if err != nil {
		p.stop(0)
		return nil, err
	}
	e := &etcd{p: p, url: url, ca: ca.pem, apiClient: client, up: make(chan struct{}),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}}
	go func() {
		defer close(e.up)
		// Not a caller's context: the holders wait, and the last one to
		// release stops etcd.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if e.upErr = waitUntil(ctx, p, e.healthy); e.upErr == nil {
			log.Info("etcd ready", "url", url, "ready", time.Since(start).Round(time.Millisecond))
		}
	}()
	return e, nil
}

// wait returns once etcd serves, or with why it does not.
func (e *etcd) wait(ctx context.Context) error {
	select {
	case <-e.up:
		return e.upErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *etcd) healthy(ctx context.Context) bool {
	var h struct {
		Health string `json:"health"`
	}
	return e.call(ctx, http.MethodGet, "/health", nil, &h) == nil && h.Health == "true"
}

// deletePrefix removes every key under prefix through etcd's JSON
// gateway, so aksid needs no etcd client library.
func (e *etcd) deletePrefix(ctx context.Context, prefix string) error {
	b64 := base64.StdEncoding.EncodeToString
	body := map[string]string{"key": b64([]byte(prefix)), "range_end": b64(prefixEnd(prefix))}
	return e.call(ctx, http.MethodPost, "/v3/kv/deleterange", body, nil)
}

// putIfEmpty writes kvs in one transaction if no key starts with prefix,
// and tells whether it did.
func (e *etcd) putIfEmpty(ctx context.Context, prefix string, kvs map[string][]byte) (bool, error) {
	b64 := base64.StdEncoding.EncodeToString
	puts := make([]any, 0, len(kvs))
	for k, v := range kvs {
		puts = append(puts, map[string]any{"request_put": map[string]string{"key": b64([]byte(k)), "value": b64(v)}})
	}
	// Over a range with no keys, a create-revision compare holds as if
	// against one absent key (revision 0).
	body := map[string]any{
		"compare": []any{map[string]string{"key": b64([]byte(prefix)), "range_end": b64(prefixEnd(prefix)),
			"target": "CREATE", "result": "EQUAL", "create_revision": "0"}},
		"success": puts,
	}
	var out struct {
		Succeeded bool `json:"succeeded"`
	}
	err := e.call(ctx, http.MethodPost, "/v3/kv/txn", body, &out)
	return out.Succeeded, err
}

// prefixEnd is the end of the range of keys starting with prefix.
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	end[len(end)-1]++
	return end
}

func (e *etcd) call(ctx context.Context, method, path string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, rd)
	if err != nil {
		return err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("apiserver: etcd %s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (e *etcd) stop() {
	e.p.stop(10 * time.Second)
	e.client.CloseIdleConnections()
}
