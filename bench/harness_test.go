package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/bootstrap"
)

// armScope is the scope az and the Azure SDKs ask for most.
const armScope = "https://management.core.windows.net//.default"

// userHZ is the unit of utime/stime in /proc/PID/stat (USER_HZ, fixed at
// 100 in the Linux user ABI).
const userHZ = 100

// shared holds what the benchmarks build once per test binary: the aksid
// binary and a data directory that has already been initialised.
var shared struct {
	once    sync.Once
	root    string
	bin     string
	dataDir string
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.root != "" {
		os.RemoveAll(shared.root)
	}
	os.Exit(code)
}

// built returns the aksid binary and an existing data directory, building
// the one and creating the other (by a start and stop) on first use.
func built(tb testing.TB) (bin, dataDir string) {
	tb.Helper()
	shared.once.Do(func() {
		shared.root, shared.err = os.MkdirTemp("", "aksid-bench-")
		if shared.err != nil {
			return
		}
		shared.bin = filepath.Join(shared.root, "aksid")
		shared.dataDir = filepath.Join(shared.root, "data")
		out, err := exec.Command("go", "build", "-o", shared.bin, "github.com/aksid/aksid/cmd/aksid").CombinedOutput()
		if err != nil {
			shared.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		p, err := startBinary(shared.bin, shared.dataDir, 30*time.Second)
		if err != nil {
			shared.err = fmt.Errorf("initialising data directory: %w", err)
			return
		}
		shared.err = p.stop()
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.bin, shared.dataDir
}

// proc is an aksid started as a separate process.
type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	exited chan struct{}
}

// startBinary runs `aksid serve` on dataDir and returns once server.json
// names the new process (it is written after the listener is open).
func startBinary(bin, dataDir string, timeout time.Duration, extra ...string) (*proc, error) {
	info := filepath.Join(dataDir, "server.json")
	_ = os.Remove(info)
	p := &proc{stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--quiet"}, extra...)...)
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(info); err == nil {
			var si struct {
				URL string `json:"url"`
				PID int    `json:"pid"`
			}
			if json.Unmarshal(b, &si) == nil && si.PID == p.cmd.Process.Pid && si.URL != "" {
				p.url = si.URL
				return p, nil
			}
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("aksid serve exited early (%v): %s", p.cmd.ProcessState, p.stderr.String())
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("aksid serve wrote no server.json within %v: %s", timeout, p.stderr.String())
		}
	}
}

// stop asks the server to shut down gracefully and waits for it.
func (p *proc) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.kill()
		return fmt.Errorf("%s ignored SIGTERM: %s", p.name(), p.stderr.String())
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("%s: %v: %s", p.name(), p.cmd.ProcessState, p.stderr.String())
	}
	return nil
}

// name is the program and its first argument ("aksid serve", "node
// server.mjs"), for messages: a proc is not always an aksid.
func (p *proc) name() string {
	n := filepath.Base(p.cmd.Args[0])
	if len(p.cmd.Args) > 1 {
		n += " " + p.cmd.Args[1]
	}
	return n
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// cpuTime is the process's user+system CPU time from /proc/PID/stat.
func (p *proc) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name start at field 3 (state);
	// utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/PID/stat: %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/PID/stat: %q", b)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// statusKB reads a "Name:   N kB" line of /proc/PID/status.
func (p *proc) statusKB(name string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/PID/status", name)
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// binaryCreds reads the bootstrap admin credentials of a data directory
// the way `aksid env` prints them.
func binaryCreds(tb testing.TB, dataDir string) bootstrap.Credentials {
	tb.Helper()
	out, err := app.DataDir(dataDir).DirectEnv(app.EnvOptions{AsAdmin: true})
	if err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{}
	for line := range strings.SplitSeq(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok {
			env[k] = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
		}
	}
	c := bootstrap.Credentials{TenantID: env["AZURE_TENANT_ID"], ClientID: env["AZURE_CLIENT_ID"], ClientSecret: env["AZURE_CLIENT_SECRET"]}
	if c.TenantID == "" || c.ClientID == "" || c.ClientSecret == "" {
		tb.Fatalf("aksid env printed no credentials:\n%s", out)
	}
	return c
}

// client is an HTTPS client for one token service: it trusts the CA and
// keeps enough idle connections for the benchmark's concurrency.
type client struct {
	http     *http.Client
	tokenURL string
	form     string
}

// newClient is a client for aksid's client-credentials tokens for ARM.
func newClient(tb testing.TB, baseURL, caPath string, creds bootstrap.Credentials) *client {
	tb.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {creds.ClientID},
		"client_secret": {creds.ClientSecret},
		"scope":         {armScope},
	}.Encode()
	return newFormClient(tb, baseURL+"/"+creds.TenantID+"/oauth2/v2.0/token", caPath, form)
}

// newFormClient is a client that posts form, URL-encoded, to tokenURL
// over TLS verified by the CA certificate in caPath: any token service.
func newFormClient(tb testing.TB, tokenURL, caPath, form string) *client {
	tb.Helper()
	pem, err := os.ReadFile(caPath)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		tb.Fatalf("no certificate in %s", caPath)
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConns:        16,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     time.Minute,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &client{
		http:     &http.Client{Transport: tr, Timeout: 30 * time.Second},
		tokenURL: tokenURL,
		form:     form,
	}
}

// token requests one client-credentials token and fails unless aksid
// answers 200 with an access token.
func (c *client) token(ctx context.Context) error {
	_, err := c.accessToken(ctx)
	return err
}

// accessToken requests a token and returns it.
func (c *client) accessToken(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(c.form))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: HTTP %d: %s", resp.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || strings.Count(tr.AccessToken, ".") != 2 {
		return "", fmt.Errorf("token: no access token in %s", body)
	}
	return tr.AccessToken, nil
}

// get fetches url and fails unless aksid answers 200.
func (c *client) get(ctx context.Context, url string) error { return c.getWith(ctx, url, "") }

// getWith is get with a bearer token, when token is not empty.
func (c *client) getWith(ctx context.Context, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, body)
	}
	return nil
}

// hammer runs op from workers goroutines until d has passed and returns
// how many calls succeeded; it stops at the first error.
func hammer(workers int, d time.Duration, op func(ctx context.Context) error) (int64, time.Duration, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if err := op(ctx); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return n.Load(), time.Since(start), first
}
