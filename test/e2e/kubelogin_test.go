package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// kubeloginPath finds kubelogin where `make test` installs it.
func kubeloginPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("kubelogin"); err == nil {
		return p
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(string(bytes.TrimSpace(gopath)), "bin", "kubelogin")
	if _, err := os.Stat(p); err != nil {
		t.Fatal("kubelogin is not installed: `make test` installs it (go install github.com/Azure/kubelogin@v0.2.22)")
	}
	return p
}

// TestKubeloginSPNThroughProxy: kubelogin with exactly the exec arguments
// AKS writes (public cloud, AKS server and client IDs, --login spn) gets a
// token through aksid's proxy whose issuer is https://sts.windows.net/<tid>/,
// and Kubernetes' JWT authenticator configured with that issuer accepts it.
func TestKubeloginSPNThroughProxy(t *testing.T) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	sp := in.createSP("kube-ci")
	px := parseEnvKeys(t, aksidRun(t, "env", "--data-dir", in.dataDir), "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE")
	cmd := exec.Command(kubeloginPath(t), "get-token", "--environment", "AzurePublicCloud", "--server-id", aksServerApp,
		"--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", tid, "--login", "spn")
	home := t.TempDir()
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "HTTPS_PROXY=" + px["HTTPS_PROXY"], "NO_PROXY=" + px["NO_PROXY"],
		"SSL_CERT_FILE=" + px["SSL_CERT_FILE"], "AAD_SERVICE_PRINCIPAL_CLIENT_ID=" + sp.AppID, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=" + sp.Password,
		"KUBECACHEDIR=" + filepath.Join(home, "cache")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubelogin: %v\n%s", err, stderr.String())
	}
	var cred struct {
		Kind   string
		Status struct {
			Token               string
			ExpirationTimestamp time.Time
		}
	}
	if err := json.Unmarshal(out, &cred); err != nil || cred.Kind != "ExecCredential" {
		t.Fatalf("kubelogin output %s: %v", out, err)
	}
	c := claimsOf(t, cred.Status.Token)
	if c["iss"] != "https://sts.windows.net/"+tid+"/" || c["aud"] != aksServerApp || c["appid"] != sp.AppID {
		t.Fatalf("token claims %v", c)
	}
	if d := time.Until(cred.Status.ExpirationTimestamp); d < 55*time.Minute {
		t.Fatalf("expiration %v", cred.Status.ExpirationTimestamp)
	}
	newProxyKubeAuthenticator(t, in).expectUser(t, cred.Status.Token, c["oid"].(string))
}
