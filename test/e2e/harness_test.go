// Package e2e drives the built aksid binary with real clients: azidentity, MSAL Go and Kubernetes' JWT authenticator.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var aksidBin string

// Tests that own everything they touch (their aksid and data directory,
// a HOME of their own for az, kubelogin and kubectl) call t.Parallel, so
// two run at once (go test's -parallel is GOMAXPROCS): most of their time
// is a client starting or a server waiting. Tests that set the process's
// environment (t.Setenv), share the PostgreSQL server (one stops it), kill
// processes on a timer or measure a load stay sequential, and run first.

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aksid-e2e")
	if err != nil {
		panic(err)
	}
	aksidBin = filepath.Join(dir, "aksid")
	build := exec.Command("go", "build", "-o", aksidBin, "github.com/aksid/aksid/cmd/aksid")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building aksid:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopPostgres()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is one running aksid process.
type instance struct {
	t       *testing.T
	dataDir string
	cmd     *exec.Cmd
	url     string
	admin   string // the admin listener (metrics, probes), plain HTTP
	env     map[string]string
	logs    *bytes.Buffer
	client  *http.Client
	pool    *x509.CertPool
}

// start runs `aksid serve` on dataDir and waits until it serves.
func start(t *testing.T, dataDir string, args ...string) *instance {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	// A stale server.json from a previous process must not fool the wait.
	_ = os.Remove(filepath.Join(dataDir, "server.json"))
	in := &instance{t: t, dataDir: dataDir, logs: &bytes.Buffer{}}
	all := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, args...)
	in.cmd = exec.Command(aksidBin, all...)
	in.cmd.Stdout = io.Discard
	in.cmd.Stderr = &syncWriter{buf: in.logs}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var info struct {
			URL      string `json:"url"`
			AdminURL string `json:"adminUrl"`
			PID      int    `json:"pid"`
		}
		b, err := os.ReadFile(filepath.Join(dataDir, "server.json"))
		if err == nil && json.Unmarshal(b, &info) == nil && info.PID == in.cmd.Process.Pid {
			in.url, in.admin = info.URL, info.AdminURL
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("aksid did not start: %s", in.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	in.env = parseEnv(t, aksidRun(t, "env", "--direct", "--data-dir", dataDir))
	pem, err := os.ReadFile(in.env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	in.pool = x509.NewCertPool()
	in.pool.AppendCertsFromPEM(pem)
	in.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.pool}}}
	return in
}

func (in *instance) stop() {
	if in.cmd.ProcessState != nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = in.cmd.Process.Kill()
		<-done
	}
}

// aksidRun runs an aksid CLI command and returns its stdout.
func aksidRun(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(aksidBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aksid %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func parseEnv(t *testing.T, out string) map[string]string {
	t.Helper()
	return parseEnvKeys(t, out, "AZURE_TENANT_ID", "AKSID_ADMIN_CLIENT_ID", "AKSID_ADMIN_CLIENT_SECRET", "AZURE_AUTHORITY_HOST", "AKSID_URL", "AKSID_SUBSCRIPTION_ID", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
}

// parseEnvKeys reads export lines and checks the required keys are there.
func parseEnvKeys(t *testing.T, out string, required ...string) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		env[k] = strings.Trim(v, "'")
	}
	for _, k := range required {
		if env[k] == "" {
			t.Fatalf("aksid env lacks %s:\n%s", k, out)
		}
	}
	return env
}

type spJSON struct {
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
	Password    string `json:"password"`
	Tenant      string `json:"tenant"`
	CertFile    string `json:"fileWithCertAndPrivateKey"`
}

func (in *instance) createSP(name string, extra ...string) spJSON {
	in.t.Helper()
	var sp spJSON
	out := aksidRun(in.t, append([]string{"sp", "create", "--name", name, "--data-dir", in.dataDir}, extra...)...)
	if err := json.Unmarshal([]byte(out), &sp); err != nil {
		in.t.Fatalf("sp create output %q: %v", out, err)
	}
	return sp
}

// rawToken posts a client-credentials form and returns status and body.
func (in *instance) rawToken(appID, secret, scope string) (int, map[string]any) {
	in.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "scope": {scope}}
	return in.postToken(in.t, in.env["AZURE_TENANT_ID"], form)
}

func errorCode(m map[string]any) int {
	codes, _ := m["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	f, _ := codes[0].(float64)
	return int(f)
}

func (in *instance) jwks(ctx context.Context) []byte {
	in.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", in.url+"/"+in.env["AZURE_TENANT_ID"]+"/discovery/v2.0/keys", nil)
	resp, err := in.client.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
