package apiserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	ca        []byte  // PEM of the CA its server certificate chains to
	apiClient pemPair // the API servers' client certificate
	ready     time.Duration
}

// startEtcd runs etcd over dir/data, its run files in dir/run.
func startEtcd(ctx context.Context, bin, dir string, ca *localCA) (*etcd, error) {
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
		// A lone member still waits out an election timeout after a
		// restart (1 s by default); on loopback 100 ms is plenty.
		"--heartbeat-interval", "10", "--election-timeout", "100",
		"--auto-compaction-mode", "periodic", "--auto-compaction-retention", "1h",
		"--log-level", "warn", "--logger", "zap",
	}
	start := time.Now()
	p, err := startProc(bin, args, nil, filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, fmt.Errorf("apiserver: starting etcd (Debian: apt-get install etcd-server): %w", err)
	}
	tc, err := clientTLS(client, ca.pem)
	if err != nil {
		p.stop(0)
		return nil, err
	}
	e := &etcd{p: p, url: url, ca: ca.pem, apiClient: client,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitUntil(wctx, p, e.healthy); err != nil {
		p.stop(5 * time.Second)
		return nil, err
	}
	e.ready = time.Since(start)
	return e, nil
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
	end := []byte(prefix)
	end[len(end)-1]++ // the range end is the prefix's successor
	b64 := base64.StdEncoding.EncodeToString
	body := map[string]string{"key": b64([]byte(prefix)), "range_end": b64(end)}
	return e.call(ctx, http.MethodPost, "/v3/kv/deleterange", body, nil)
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
		return fmt.Errorf("apiserver: etcd %s %s: %s", method, path, resp.Status)
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
