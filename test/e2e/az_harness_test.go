package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// azCLI runs the real az (Debian azure-cli 2.45) against one aksid in
// custom-cloud mode, with a config directory of its own.
type azCLI struct {
	t   *testing.T
	env []string
}

// newAz registers aksid as az's cloud (`aksid az-cloud`) in a fresh
// config directory seeded by `aksid env --direct`.
func newAz(t *testing.T, in *instance) *azCLI {
	t.Helper()
	a := newAzEnv(t, parseEnv(t, aksidRun(t, "env", "--direct", "--data-dir", in.dataDir)))
	cmd := exec.Command(aksidBin, "az-cloud", "--data-dir", in.dataDir)
	cmd.Env = a.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aksid az-cloud: %v: %s", err, out)
	}
	return a
}

// newProxyAz runs az on its default AzureCloud with `aksid env`'s proxy
// variables: nothing registered, the docs' commands verbatim.
func newProxyAz(t *testing.T, in *instance) *azCLI {
	t.Helper()
	return newAzEnv(t, parseEnvKeys(t, aksidRun(t, "env", "--data-dir", in.dataDir), "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "AZURE_CONFIG_DIR"))
}

func newAzEnv(t *testing.T, direct map[string]string) *azCLI {
	t.Helper()
	if _, err := exec.LookPath("az"); err != nil {
		t.Fatal("az is not installed: `make test` installs Debian's azure-cli")
	}
	// Each az gets its own config directory (so two can be signed in as
	// different principals), seeded like aksid's own.
	cfgDir := t.TempDir()
	for _, f := range []string{"config", "versionCheck.json"} {
		b, err := os.ReadFile(filepath.Join(direct["AZURE_CONFIG_DIR"], f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfgDir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8", "AZURE_CONFIG_DIR=" + cfgDir}
	for k, v := range direct {
		switch k {
		case "AKSID_ADMIN_CLIENT_ID", "AKSID_ADMIN_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CONFIG_DIR":
			continue // az does not read the first three; the last is per az
		}
		env = append(env, k+"="+v)
	}
	return &azCLI{t: t, env: env}
}

// run runs az and returns stdout, stderr and whether it succeeded.
func (a *azCLI) run(args ...string) (string, string, bool) {
	a.t.Helper()
	cmd := exec.Command("az", args...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return strings.TrimSpace(out.String()), errb.String(), err == nil
}

// ok runs az and fails the test unless it succeeds.
func (a *azCLI) ok(args ...string) string {
	a.t.Helper()
	out, stderr, ok := a.run(args...)
	if !ok {
		a.t.Fatalf("az %s failed:\n%s\n%s", strings.Join(args, " "), stderr, out)
	}
	return out
}

// fails runs az and fails the test unless it fails with want in stderr.
func (a *azCLI) fails(want string, args ...string) {
	a.t.Helper()
	out, stderr, ok := a.run(args...)
	if ok || !strings.Contains(stderr, want) {
		a.t.Fatalf("az %s: want failure with %q, got ok=%v:\n%s\n%s", strings.Join(args, " "), want, ok, stderr, out)
	}
}

// json runs az and decodes its JSON output.
func (a *azCLI) json(v any, args ...string) {
	a.t.Helper()
	out := a.ok(args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		a.t.Fatalf("az %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (a *azCLI) loginSP(appID, secret, tenant string) {
	a.t.Helper()
	a.ok("login", "--service-principal", "-u", appID, "-p", secret, "--tenant", tenant, "--allow-no-subscriptions", "-o", "none")
}

// loginUser signs az in as a user with a password (ROPC), as `az login -u -p`.
func (a *azCLI) loginUser(upn, password string) {
	a.t.Helper()
	a.ok("login", "-u", upn, "-p", password, "--allow-no-subscriptions", "-o", "none")
}
