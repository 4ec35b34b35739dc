package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kubeconfigExec reads the first user's kubelogin exec arguments the way
// kubectl would run them.
func kubeconfigExec(t *testing.T, kc string) []string {
	t.Helper()
	out, err := exec.Command("kubectl", "config", "view", "--kubeconfig", kc, "-o", "jsonpath={.users[0].user.exec}").Output()
	if err != nil {
		t.Fatalf("kubectl config view: %v", err)
	}
	var e struct {
		Command string
		Args    []string
	}
	if err := json.Unmarshal(out, &e); err != nil || e.Command != "kubelogin" {
		t.Fatalf("exec %s: %v", out, err)
	}
	return e.Args
}

func convertKubeconfig(t *testing.T, kc, mode string, env []string, extra ...string) {
	t.Helper()
	conv := exec.Command(kubeloginPath(t), append([]string{"convert-kubeconfig", "-l", mode, "--kubeconfig", kc}, extra...)...)
	conv.Env = env
	if out, err := conv.CombinedOutput(); err != nil {
		t.Fatalf("kubelogin convert-kubeconfig -l %s: %v %s", mode, err, out)
	}
}

// convertAndSignIn takes the kubeconfigs `az aks get-credentials` wrote
// through the proxy (kc) and directly (dkc), converts them with kubelogin
// to other modes, runs the converted exec as kubectl would, and checks
// Kubernetes accepts the tokens; then kubelogin remove-cache-dir forgets
// them. Directly, `aksid kubeconfig direct` restores the authority
// arguments that convert-kubeconfig drops.
func convertAndSignIn(t *testing.T, in *instance, az *azCLI, kc, dkc string) {
	home := t.TempDir()
	cache := filepath.Join(home, "cache")
	base := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "KUBECACHEDIR=" + cache}
	px := parseEnvKeys(t, aksidRun(t, "env", "--data-dir", in.dataDir), "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE")
	proxyEnv := append(append([]string(nil), base...), "HTTPS_PROXY="+px["HTTPS_PROXY"], "NO_PROXY="+px["NO_PROXY"], "SSL_CERT_FILE="+px["SSL_CERT_FILE"])
	run := func(args []string, env []string) string {
		cmd := exec.Command(kubeloginPath(t), args...)
		cmd.Env = env
		return kubeloginToken(t, cmd)
	}
	proxyKube := newProxyKubeAuthenticator(t, in)

	// azurecli (converted above): kubelogin asks the az that is signed in.
	var azEnv []string
	for _, e := range az.env {
		if strings.HasPrefix(e, "AZURE_CONFIG_DIR=") || strings.HasPrefix(e, "REQUESTS_CA_BUNDLE=") {
			azEnv = append(azEnv, e)
		}
	}
	tok := run(kubeconfigExec(t, kc), append(append([]string(nil), proxyEnv...), azEnv...))
	c := claimsOf(t, tok)
	if c["appid"] != in.env["AKSID_ADMIN_CLIENT_ID"] {
		t.Fatalf("azurecli token %v", c)
	}
	proxyKube.expectUser(t, tok, c["oid"].(string))

	// spn as the kubelogin docs convert it: the client ID into the
	// kubeconfig, the secret from AAD_SERVICE_PRINCIPAL_CLIENT_SECRET.
	sp := in.createSP("converted-spn")
	convertKubeconfig(t, kc, "spn", base, "--client-id", sp.AppID, "--tenant-id", in.env["AZURE_TENANT_ID"])
	args := kubeconfigExec(t, kc)
	if strings.Contains(strings.Join(args, " "), "authority-host") {
		t.Fatalf("converted through the proxy: %v", args)
	}
	tok = run(args, append(append([]string(nil), proxyEnv...), "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET="+sp.Password))
	c = claimsOf(t, tok)
	if c["appid"] != sp.AppID || c["iss"] != "https://sts.windows.net/"+in.env["AZURE_TENANT_ID"]+"/" {
		t.Fatalf("spn token %v", c)
	}
	proxyKube.expectUser(t, tok, c["oid"].(string))

	// Directly: ropc after convert, with the authority put back.
	user := adminUser(t, in)
	convertKubeconfig(t, dkc, "ropc", base)
	if strings.Contains(strings.Join(kubeconfigExec(t, dkc), " "), "authority-host") {
		t.Fatal("convert-kubeconfig kept --authority-host; the README's one-liner would be moot")
	}
	aksidRun(t, "kubeconfig", "direct", "--kubeconfig", dkc, "--data-dir", in.dataDir)
	args = kubeconfigExec(t, dkc)
	if joined := strings.Join(args, " "); !strings.Contains(joined, "--authority-host "+in.url+"/ --disable-instance-discovery") || !strings.Contains(joined, "--login ropc") {
		t.Fatalf("after aksid kubeconfig direct: %v", args)
	}
	tok = run(args, append(append([]string(nil), base...), "SSL_CERT_FILE="+in.env["SSL_CERT_FILE"],
		"AAD_USER_PRINCIPAL_NAME="+user.upn, "AAD_USER_PRINCIPAL_PASSWORD="+user.password))
	c = claimsOf(t, tok)
	if c["upn"] != user.upn {
		t.Fatalf("ropc token %v", c)
	}
	newKubeAuthenticator(t, in).expectUser(t, tok, c["oid"].(string))

	// ropc left kubelogin's sign-in record in the cache directory.
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no kubelogin cache to remove: %v", err)
	}
	rm := exec.Command(kubeloginPath(t), "remove-cache-dir", "--cache-dir", cache)
	rm.Env = base
	if out, err := rm.CombinedOutput(); err != nil {
		t.Fatalf("kubelogin remove-cache-dir: %v %s", err, out)
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Fatalf("the cache directory is still there: %v", err)
	}
}
