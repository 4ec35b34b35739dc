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

// inAksidEnv runs script in bash after the README's own `eval "$(aksid
// env)"`, with aksid and kubelogin on PATH and nothing else inherited, as a
// person's fresh shell would be; extra are further environment entries.
func (in *instance) inAksidEnv(t *testing.T, script string, extra ...string) (string, string, error) {
	t.Helper()
	home := t.TempDir()
	path := filepath.Dir(aksidBin) + ":" + filepath.Dir(kubeloginPath(t)) + ":" + os.Getenv("PATH")
	cmd := exec.Command("bash", "-c", `eval "$(aksid env)"`+"\n"+script)
	cmd.Env = append([]string{"HOME=" + home, "PATH=" + path, "LANG=C.UTF-8", "AKSID_DATA_DIR=" + in.dataDir,
		"KUBECACHEDIR=" + filepath.Join(home, "cache")}, extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// TestKubeloginROPCInAksidEnvShell: in a shell set up by plain `aksid env`,
// kubelogin with AKS's own exec arguments and the docs' ropc variables
// signs the user in. The admin's credentials must not reach kubelogin as
// AZURE_CLIENT_ID/AZURE_CLIENT_SECRET: kubelogin prefers AZURE_CLIENT_ID
// over --client-id and would send the admin's ID without a secret
// (AADSTS7000218).
func TestKubeloginROPCInAksidEnvShell(t *testing.T) {
	in := start(t, "")
	user := adminUser(t, in)
	script := `kubelogin get-token --environment AzurePublicCloud --server-id ` + aksServerApp +
		` --client-id ` + aksClientApp + ` --tenant-id "$AZURE_TENANT_ID" --login ropc`
	out, stderr, err := in.inAksidEnv(t, script, "AAD_USER_PRINCIPAL_NAME="+user.upn, "AAD_USER_PRINCIPAL_PASSWORD="+user.password)
	if err != nil {
		t.Fatalf("kubelogin ropc in aksid env's shell: %v\n%s", err, stderr)
	}
	tok := parseExecCredential(t, []byte(out))
	c := claimsOf(t, tok)
	in.expectIssuer(t, viaProxy, c)
	if c["upn"] != user.upn || c["appid"] != aksClientApp {
		t.Fatalf("token claims %v, want user %s through the AKS client", c, user.upn)
	}
	kubeAuthnFor(t, in, viaProxy).expectUser(t, tok, c["oid"].(string))

	// The admin's credentials are there under aksid's names, for az login.
	out, _, err = in.inAksidEnv(t, `echo "$AKSID_ADMIN_CLIENT_ID $AKSID_ADMIN_CLIENT_SECRET ${AZURE_CLIENT_ID-unset} ${AZURE_CLIENT_SECRET-unset}"`)
	if f := strings.Fields(out); err != nil || len(f) != 4 || f[0] != in.env["AKSID_ADMIN_CLIENT_ID"] || f[1] == "" || f[2] != "unset" || f[3] != "unset" {
		t.Fatalf("aksid env's admin variables: %q %v", out, err)
	}
}

// TestCurlThroughProxyWithAksidEnv: the real curl, which reads only the
// lowercase http_proxy for http:// URLs, works through aksid in a shell
// set up by `aksid env` with the README's commands as written: the
// discovery request, a client-credentials token for the admin principal,
// and IMDS over plain http.
func TestCurlThroughProxyWithAksidEnv(t *testing.T) {
	in := start(t, "")
	// Many systems (Debian images, CI runners) set curl's own bundle
	// variable, which curl reads over SSL_CERT_FILE.
	sysBundle := "CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"
	tid := in.env["AZURE_TENANT_ID"]
	out, stderr, err := in.inAksidEnv(t, `curl -sS --fail https://login.microsoftonline.com/$AZURE_TENANT_ID/v2.0/.well-known/openid-configuration`, sysBundle)
	var doc struct{ Issuer string }
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || doc.Issuer != "https://login.microsoftonline.com/"+tid+"/v2.0" {
		t.Fatalf("discovery with curl through the proxy: %v %s %s", err, out, stderr)
	}

	out, stderr, err = in.inAksidEnv(t, `curl -sS --fail "https://login.microsoftonline.com/$AZURE_TENANT_ID/oauth2/v2.0/token" \
  -d grant_type=client_credentials -d client_id="$AKSID_ADMIN_CLIENT_ID" \
  --data-urlencode client_secret="$AKSID_ADMIN_CLIENT_SECRET" \
  --data-urlencode scope=https://management.azure.com/.default`, sysBundle)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err != nil || json.Unmarshal([]byte(out), &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token with curl through the proxy: %v %s %s", err, out, stderr)
	}
	if c := claimsOf(t, tok.AccessToken); c["iss"] != "https://sts.windows.net/"+tid+"/" || c["appid"] != in.env["AKSID_ADMIN_CLIENT_ID"] {
		t.Fatalf("token claims %v", c)
	}

	// http:// goes through http_proxy only: IMDS answers as the default host.
	out, stderr, err = in.inAksidEnv(t, `curl -sS --fail -m 10 -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"`)
	if err != nil || json.Unmarshal([]byte(out), &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("IMDS with curl through http_proxy: %v %s %s", err, out, stderr)
	}
	if c := claimsOf(t, tok.AccessToken); c["xms_mirid"] == nil {
		t.Fatalf("IMDS token claims %v", c)
	}
}
