package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Ways in: through aksid's proxy with the arguments exactly as AKS writes
// them, or directly at aksid with the authority host added.
const (
	viaProxy  = "proxy"
	viaDirect = "direct"
)

// kubeloginCmd builds `kubelogin get-token --login mode` as AKS's
// kubeconfig has it, for the given way in; extra args and env follow.
func (in *instance) kubeloginCmd(t *testing.T, via, mode string, extraArgs, extraEnv []string) *exec.Cmd {
	t.Helper()
	args := []string{"get-token", "--environment", "AzurePublicCloud", "--server-id", aksServerApp,
		"--client-id", aksClientApp, "--tenant-id", in.env["AZURE_TENANT_ID"], "--login", mode}
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "KUBECACHEDIR=" + filepath.Join(home, "cache")}
	switch via {
	case viaProxy:
		px := parseEnvKeys(t, aksidRun(t, "env", "--data-dir", in.dataDir), "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE")
		env = append(env, "HTTPS_PROXY="+px["HTTPS_PROXY"], "NO_PROXY="+px["NO_PROXY"], "SSL_CERT_FILE="+px["SSL_CERT_FILE"])
	case viaDirect:
		args = append(args, "--authority-host", in.url+"/", "--disable-instance-discovery")
		env = append(env, "SSL_CERT_FILE="+in.env["SSL_CERT_FILE"])
	default:
		t.Fatalf("way in %q", via)
	}
	cmd := exec.Command(kubeloginPath(t), append(args, extraArgs...)...)
	cmd.Env = append(env, extraEnv...)
	return cmd
}

// execCredential is what kubelogin prints for kubectl.
type execCredential struct {
	Kind   string
	Status struct {
		Token               string
		ExpirationTimestamp time.Time
	}
}

// kubeloginToken runs cmd to the end and returns the ExecCredential's token.
func kubeloginToken(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubelogin %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, stderr.String())
	}
	return parseExecCredential(t, out)
}

func parseExecCredential(t *testing.T, out []byte) string {
	t.Helper()
	var cred execCredential
	if err := json.Unmarshal(out, &cred); err != nil || cred.Kind != "ExecCredential" || cred.Status.Token == "" {
		t.Fatalf("kubelogin output %s: %v", out, err)
	}
	if d := time.Until(cred.Status.ExpirationTimestamp); d < 30*time.Minute {
		t.Fatalf("expiration %v", cred.Status.ExpirationTimestamp)
	}
	return cred.Status.Token
}

// expectIssuer checks the token carries the issuer for the way it came in.
func (in *instance) expectIssuer(t *testing.T, via string, c map[string]any) {
	t.Helper()
	want := "https://sts.windows.net/" + in.env["AZURE_TENANT_ID"] + "/"
	if via == viaDirect {
		want = in.url + "/" + in.env["AZURE_TENANT_ID"] + "/"
	}
	if c["iss"] != want || c["aud"] != aksServerApp {
		t.Fatalf("%s token: iss %v aud %v, want iss %s", via, c["iss"], c["aud"], want)
	}
}
