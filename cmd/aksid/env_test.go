package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/app"
	"github.com/aksid/aksid/internal/pki"
)

// runCLI runs aksid's command line in process and returns stdout and stderr.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// exports reads `export K='V'` lines.
func exports(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = unquote(v)
		}
	}
	return m
}

// dataDirWithoutServer has aksid's keys and CA, as after a server stopped.
func dataDirWithoutServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	kr, err := app.DataDir(dir).Keyring()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pki.LoadOrCreateCA(dir, kr, time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEnvWarnsWhenNoServerAnswers: `aksid env` with no server answering
// still prints its lines, but says on stderr why they may point at
// nothing; with --wait it fails instead and prints no lines.
func TestEnvWarnsWhenNoServerAnswers(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "https://" + closed.Addr().String()
	closed.Close()
	stranger := httptest.NewTLSServer(nil)
	defer stranger.Close()

	for _, tc := range []struct {
		name   string
		info   *app.ServerInfo // server.json, if any
		reason string
	}{
		{"never started", nil, "no aksid server is running"},
		{"process gone", &app.ServerInfo{URL: "https://127.0.0.1:1", Addr: "127.0.0.1:1", PID: dead.Process.Pid}, "is not running"},
		{"nothing listens", &app.ServerInfo{URL: closedURL, Addr: strings.TrimPrefix(closedURL, "https://"), PID: os.Getpid()}, "does not answer"},
		{"another server", &app.ServerInfo{URL: stranger.URL, Addr: stranger.Listener.Addr().String(), PID: os.Getpid()}, "not this data directory's aksid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := dataDirWithoutServer(t)
			if tc.info != nil {
				if err := app.DataDir(dir).WriteServerInfo(*tc.info); err != nil {
					t.Fatal(err)
				}
			}
			out, stderr, err := runCLI(t, "env", "--data-dir", dir)
			if err != nil || exports(out)["HTTPS_PROXY"] == "" {
				t.Fatalf("aksid env: %v %q", err, out)
			}
			if !strings.Contains(stderr, "warning") || !strings.Contains(stderr, tc.reason) {
				t.Fatalf("stderr %q, want a warning saying %q", stderr, tc.reason)
			}
			out, _, err = runCLI(t, "env", "--data-dir", dir, "--wait", "300ms")
			if err == nil || !strings.Contains(err.Error(), tc.reason) || out != "" {
				t.Fatalf("aksid env --wait 300ms: %v, printed %q", err, out)
			}
		})
	}
}

// TestEnvWaitsForServer: `aksid env --wait` returns once a server started
// meanwhile (on a port of its own choosing) answers, naming its address.
func TestEnvWaitsForServer(t *testing.T) {
	dir := t.TempDir()
	started := make(chan *app.Running, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		r, err := app.Start(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: dir, InMemory: true, HTTPProxyAddr: "off",
			Out: io.Discard, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Error(err)
		}
		started <- r
	}()
	out, stderr, err := runCLI(t, "env", "--data-dir", dir, "--wait", "60s")
	r := <-started
	if r == nil {
		t.FailNow()
	}
	defer r.Shutdown(context.Background())
	if err != nil || stderr != "" {
		t.Fatalf("aksid env --wait: %v %q", err, stderr)
	}
	if got := exports(out)["HTTPS_PROXY"]; got != r.URL {
		t.Fatalf("HTTPS_PROXY %q, want the server's %q", got, r.URL)
	}
}

// TestEnvLines: both ways in give the admin principal under aksid's names
// only (AZURE_CLIENT_* with --as-admin), and proxy mode gives the proxy
// variables in both cases, for curl and wget as well as Go.
func TestEnvLines(t *testing.T) {
	dir := dataDirWithoutServer(t)
	for _, mode := range [][]string{nil, {"--direct"}} {
		plain, _, err := runCLI(t, append([]string{"env", "--data-dir", dir}, mode...)...)
		if err != nil {
			t.Fatal(err)
		}
		env := exports(plain)
		if env["AKSID_ADMIN_CLIENT_ID"] == "" || env["AKSID_ADMIN_CLIENT_SECRET"] == "" || env["AZURE_TENANT_ID"] == "" {
			t.Fatalf("aksid env %v lacks the admin or tenant:\n%s", mode, plain)
		}
		if _, ok := env["AZURE_CLIENT_ID"]; ok {
			t.Fatalf("aksid env %v exports AZURE_CLIENT_ID, which kubelogin prefers over --client-id:\n%s", mode, plain)
		}
		if _, ok := env["AZURE_CLIENT_SECRET"]; ok {
			t.Fatalf("aksid env %v exports AZURE_CLIENT_SECRET:\n%s", mode, plain)
		}
		admin, _, err := runCLI(t, append([]string{"env", "--data-dir", dir, "--as-admin"}, mode...)...)
		if err != nil {
			t.Fatal(err)
		}
		if a := exports(admin); a["AZURE_CLIENT_ID"] != env["AKSID_ADMIN_CLIENT_ID"] || a["AZURE_CLIENT_SECRET"] != env["AKSID_ADMIN_CLIENT_SECRET"] {
			t.Fatalf("aksid env --as-admin %v:\n%s", mode, admin)
		}
	}
	out, _, err := runCLI(t, "env", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	env := exports(out)
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"} {
		if env[k] == "" || env[strings.ToLower(k)] != env[k] {
			t.Fatalf("%s %q, %s %q:\n%s", k, env[k], strings.ToLower(k), env[strings.ToLower(k)], out)
		}
	}
}

// TestRunGivesTheSameEnvironment: `aksid run` gives a command what `aksid
// env` prints, the admin as AZURE_CLIENT_ID only when asked.
func TestRunGivesTheSameEnvironment(t *testing.T) {
	dir := dataDirWithoutServer(t)
	env, _, err := runCLI(t, "env", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "unset"},
		{[]string{"--as-admin"}, exports(env)["AKSID_ADMIN_CLIENT_ID"]},
	} {
		args := append(append([]string{"run", "--data-dir", dir}, tc.args...), "--", "sh", "-c", `echo "$https_proxy ${AZURE_CLIENT_ID-unset}"`)
		out, _, err := runCLI(t, args...)
		if f := strings.Fields(out); err != nil || len(f) != 2 || f[0] != exports(env)["HTTPS_PROXY"] || f[1] != tc.want {
			t.Fatalf("aksid run %v: %v %q", tc.args, err, out)
		}
	}
}
