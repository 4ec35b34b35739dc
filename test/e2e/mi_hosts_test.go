package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// hostView is what `aksid host create|list` print.
type hostView struct {
	Name, Kind, ResourceID string
	SystemAssigned         *struct{ ClientID, PrincipalID, ResourceID string }
	UserAssigned           []struct{ ClientID, PrincipalID, ResourceID string } `json:"userAssignedIdentities"`
}

type uami struct {
	ID         string
	Properties struct{ ClientID, PrincipalID, TenantID string }
}

// armAdmin sends one request to the ARM face as the bootstrap principal.
func (in *instance) armAdmin(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	st, tok := in.rawToken(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], armScope)
	if st != 200 {
		t.Fatalf("admin token: %d %v", st, tok)
	}
	req, _ := http.NewRequest(method, in.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

// newUAMI makes a user-assigned identity through the ARM face.
func (in *instance) newUAMI(t *testing.T, group, name string) uami {
	t.Helper()
	sub := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"]
	_, m := in.armAdmin(t, "PUT", sub+"/resourceGroups/"+group+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"+name+"?api-version=2023-01-31", `{"location":"westus2"}`)
	b, _ := json.Marshal(m)
	var u uami
	if err := json.Unmarshal(b, &u); err != nil || u.Properties.ClientID == "" {
		t.Fatalf("identity %s: %s", name, b)
	}
	return u
}

func hostCreate(t *testing.T, in *instance, args ...string) hostView {
	t.Helper()
	var h hostView
	out := aksidRun(t, append([]string{"host", "create", "--data-dir", in.dataDir}, args...)...)
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("host create: %v: %s", err, out)
	}
	return h
}

// hostEnv is `aksid host env NAME [--app-service]`.
func hostEnv(t *testing.T, in *instance, name string, extra ...string) map[string]string {
	t.Helper()
	out := aksidRun(t, append([]string{"host", "env", name, "--data-dir", in.dataDir}, extra...)...)
	if len(extra) > 0 {
		return parseEnvKeys(t, out, "AKSID_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER")
	}
	if !strings.HasPrefix(out, "unset IDENTITY_ENDPOINT IDENTITY_HEADER") {
		t.Fatalf("host env does not unset the App Service variables:\n%s", out)
	}
	return parseEnvKeys(t, out, "AKSID_HOST", "HTTP_PROXY", "http_proxy")
}

// kubeloginMSI runs the real kubelogin `get-token --login msi` with env
// (the host's variables) and returns the token, or stderr on failure.
func kubeloginMSI(t *testing.T, env map[string]string, args ...string) (string, string) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(kubeloginPath(t), append([]string{"get-token", "--login", "msi", "--server-id", aksServerApp}, args...)...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "KUBECACHEDIR=" + filepath.Join(home, "cache"), "NO_PROXY=127.0.0.1,localhost,::1"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	out, err := cmd.Output()
	close(done)
	if err != nil {
		return "", stderr.String()
	}
	var cred struct {
		Kind   string
		Status struct{ Token string }
	}
	if err := json.Unmarshal(out, &cred); err != nil || cred.Kind != "ExecCredential" || cred.Status.Token == "" {
		t.Fatalf("kubelogin output %s: %v", out, err)
	}
	return cred.Status.Token, ""
}

// imdsVia sends one IMDS request through the plain proxy URL proxy (with
// or without host credentials) and returns status and JSON body.
func imdsVia(t *testing.T, proxy, query string, metadata bool) (int, map[string]any) {
	t.Helper()
	u, err := url.Parse(proxy)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://169.254.169.254/metadata/identity/oauth2/token?"+query, nil)
	if metadata {
		req.Header.Set("Metadata", "true")
	}
	return doJSON(t, &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(u)}}, req)
}

// appService sends one App Service request to endpoint with header.
func appService(t *testing.T, endpoint, query, header string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", endpoint+"?"+query, nil)
	if header != "" {
		req.Header.Set("X-IDENTITY-HEADER", header)
	}
	return doJSON(t, &http.Client{Timeout: 20 * time.Second}, req)
}

func doJSON(t *testing.T, c *http.Client, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: not JSON (%d): %s", req.URL.Path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

// expectRefused asserts an endpoint's refusal: status, error and
// description, and no token.
func expectRefused(t *testing.T, what string, status int, body map[string]any, wantStatus int, wantErr, wantDesc string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantErr || !strings.Contains(body["error_description"].(string), wantDesc) || body["access_token"] != nil {
		t.Fatalf("%s: %d %v, want %d %s %q", what, status, body, wantStatus, wantErr, wantDesc)
	}
}

// miClaims checks a managed-identity token's claims.
func miClaims(t *testing.T, in *instance, tok, principalID, mirid string) {
	t.Helper()
	c := claimsOf(t, tok)
	if c["oid"] != principalID || c["idtyp"] != "app" || !strings.EqualFold(c["xms_mirid"].(string), mirid) ||
		c["iss"] != "https://sts.windows.net/"+in.env["AZURE_TENANT_ID"]+"/" {
		t.Fatalf("managed identity token: %v, want oid %s, xms_mirid %s", c, principalID, mirid)
	}
}

// hostTransport sends http:// requests (IMDS) through the host's proxy
// URL, as HTTP_PROXY does, and https:// through aksid's proxy.
func (in *instance) hostTransport(t *testing.T, hostProxy string) *http.Client {
	t.Helper()
	hp, err := url.Parse(hostProxy)
	if err != nil {
		t.Fatal(err)
	}
	px, _ := url.Parse(in.url)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.pool}, ForceAttemptHTTP2: true,
		Proxy: func(r *http.Request) (*url.URL, error) {
			if r.URL.Scheme == "http" {
				return hp, nil
			}
			return px, nil
		}}}
}

// TestManagedIdentityBoundToHosts: each emulated host gets tokens only for
// the identities assigned to it. The real kubelogin (`--login msi`, with
// and without --client-id), azidentity's ManagedIdentityCredential and
// DefaultAzureCredential get them through IMDS (HTTP_PROXY naming the
// host) and App Service's endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER);
// a cluster's nodes carry its kubelet and add-on identities only;
// Kubernetes accepts them as the identity's principal. Every refusal
// carries the endpoint's status and error, and no token.
func TestManagedIdentityBoundToHosts(t *testing.T) {
	in := start(t, "")
	sub := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"]
	for _, ns := range []string{"Microsoft.ManagedIdentity", "Microsoft.ContainerService"} {
		in.armAdmin(t, "POST", sub+"/providers/"+ns+"/register?api-version=2021-04-01", "")
	}
	in.armAdmin(t, "PUT", sub+"/resourcegroups/ids?api-version=2021-04-01", `{"location":"westus2"}`)
	uiA, uiB, uiC := in.newUAMI(t, "ids", "ui-a"), in.newUAMI(t, "ids", "ui-b"), in.newUAMI(t, "ids", "ui-c")

	vmA := hostCreate(t, in, "vm-a", "--system-assigned", "--identity", uiA.ID)
	if vmA.SystemAssigned == nil || vmA.SystemAssigned.PrincipalID == "" || !strings.Contains(vmA.ResourceID, "/providers/Microsoft.Compute/virtualMachines/vm-a") ||
		len(vmA.UserAssigned) != 1 || vmA.UserAssigned[0].ClientID != uiA.Properties.ClientID {
		t.Fatalf("host vm-a: %+v", vmA)
	}
	hostCreate(t, in, "vm-b", "--identity", uiB.ID)
	hostCreate(t, in, "vm-c", "--identity", uiB.ID, "--identity", uiC.ID)
	var list []hostView
	if err := json.Unmarshal([]byte(aksidRun(t, "host", "list", "--data-dir", in.dataDir)), &list); err != nil || len(list) != 4 || list[0].Name != "aksid-default-vm" ||
		list[0].SystemAssigned == nil {
		t.Fatalf("host list: %+v %v", list, err)
	}
	deflt := list[0]
	envA := hostEnv(t, in, "vm-a")
	appA, appB := hostEnv(t, in, "vm-a", "--app-service"), hostEnv(t, in, "vm-b", "--app-service")
	kube := newProxyKubeAuthenticator(t, in)

	// kubelogin through IMDS: the system-assigned identity by default, a
	// user-assigned one with --client-id; another host's is not there.
	tok, stderr := kubeloginMSI(t, envA)
	if tok == "" {
		t.Fatalf("kubelogin msi as vm-a: %s", stderr)
	}
	miClaims(t, in, tok, vmA.SystemAssigned.PrincipalID, vmA.ResourceID)
	kube.expectUser(t, tok, vmA.SystemAssigned.PrincipalID)
	if tok, stderr = kubeloginMSI(t, envA, "--client-id", uiA.Properties.ClientID); tok == "" {
		t.Fatalf("kubelogin msi --client-id as vm-a: %s", stderr)
	}
	miClaims(t, in, tok, uiA.Properties.PrincipalID, uiA.ID)
	kube.expectUser(t, tok, uiA.Properties.PrincipalID)
	if tok, stderr = kubeloginMSI(t, envA, "--client-id", uiB.Properties.ClientID); tok != "" || !strings.Contains(stderr, "Identity not found") {
		t.Fatalf("vm-a got ui-b's token: %q %s", tok, stderr)
	}
	// kubelogin App Service style: vm-b's only identity by default.
	if tok, stderr = kubeloginMSI(t, appB); tok == "" {
		t.Fatalf("kubelogin msi (App Service) as vm-b: %s", stderr)
	}
	miClaims(t, in, tok, uiB.Properties.PrincipalID, uiB.ID)
	kube.expectUser(t, tok, uiB.Properties.PrincipalID)
	if tok, stderr = kubeloginMSI(t, appA, "--client-id", uiA.Properties.ClientID); tok == "" {
		t.Fatalf("kubelogin msi --client-id (App Service) as vm-a: %s", stderr)
	}
	kube.expectUser(t, tok, uiA.Properties.PrincipalID)
	if tok, stderr = kubeloginMSI(t, appB, "--client-id", uiA.Properties.ClientID); tok != "" || !strings.Contains(stderr, "Identity not found") {
		t.Fatalf("vm-b got ui-a's token through App Service: %q %s", tok, stderr)
	}

	// azidentity through IMDS (by resource ID) and App Service (by object ID).
	opts := azcore.ClientOptions{Transport: in.hostTransport(t, envA["HTTP_PROXY"])}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ResourceID(uiA.ID)})
	if err != nil {
		t.Fatal(err)
	}
	kube.expectUser(t, getToken(t, cred, aksServerApp+"/.default").Token, uiA.Properties.PrincipalID)
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dac, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	tok = getToken(t, dac, aksServerApp+"/.default").Token
	miClaims(t, in, tok, vmA.SystemAssigned.PrincipalID, vmA.ResourceID)
	kube.expectUser(t, tok, vmA.SystemAssigned.PrincipalID)
	t.Setenv("IDENTITY_ENDPOINT", appB["IDENTITY_ENDPOINT"])
	t.Setenv("IDENTITY_HEADER", appB["IDENTITY_HEADER"])
	appCred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ObjectID(uiB.Properties.PrincipalID)})
	if err != nil {
		t.Fatal(err)
	}
	kube.expectUser(t, getToken(t, appCred, aksServerApp+"/.default").Token, uiB.Properties.PrincipalID)
	appDAC, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	// MSAL caches system-assigned tokens process-wide by resource (a
	// process runs on one host), so this one asks for another resource.
	miClaims(t, in, getToken(t, appDAC, "https://management.azure.com/.default").Token, uiB.Properties.PrincipalID, uiB.ID)
	os.Unsetenv("IDENTITY_ENDPOINT")
	os.Unsetenv("IDENTITY_HEADER")

	// Refusals, each as the endpoint answers, never with a token.
	q := "api-version=2018-02-01&resource=" + url.QueryEscape(aksServerApp)
	st, body := imdsVia(t, envA["HTTP_PROXY"], q, false)
	expectRefused(t, "no Metadata header", st, body, 400, "invalid_request", "Required metadata header not specified")
	st, body = imdsVia(t, envA["HTTP_PROXY"], q+"&client_id="+uiB.Properties.ClientID, true)
	expectRefused(t, "an identity of another host", st, body, 400, "invalid_request", "Identity not found")
	st, body = imdsVia(t, envA["HTTP_PROXY"], q+"&msi_res_id="+url.QueryEscape(uiC.ID), true)
	expectRefused(t, "an unassigned identity by resource ID", st, body, 400, "invalid_request", "Identity not found")
	st, body = imdsVia(t, hostEnv(t, in, "vm-c")["HTTP_PROXY"], q, true)
	expectRefused(t, "two user-assigned identities, none named", st, body, 400, "invalid_request", "Multiple user assigned identities exist")
	plain := in.httpProxy(t)
	bad, _ := url.Parse(plain)
	bad.User = url.UserPassword("vm-a", "not-the-secret")
	st, body = imdsVia(t, bad.String(), q, true)
	expectRefused(t, "wrong host secret", st, body, 407, "invalid_host_credentials", "proxy credentials")
	bad.User = url.UserPassword("no-such-vm", appA["IDENTITY_HEADER"])
	st, body = imdsVia(t, bad.String(), q, true)
	expectRefused(t, "unknown host", st, body, 407, "invalid_host_credentials", "proxy credentials")
	st, body = appService(t, appB["IDENTITY_ENDPOINT"], "api-version=2019-08-01&resource="+url.QueryEscape(aksServerApp), appA["IDENTITY_HEADER"]+"x")
	expectRefused(t, "wrong IDENTITY_HEADER", st, body, 401, "unauthorized_client", "X-IDENTITY-HEADER")
	st, body = appService(t, appB["IDENTITY_ENDPOINT"], "api-version=2019-08-01&resource="+url.QueryEscape(aksServerApp), "")
	expectRefused(t, "no IDENTITY_HEADER", st, body, 400, "invalid_request", "X-IDENTITY-HEADER")

	// No credentials: the default host, whose system-assigned identity is its only one.
	st, body = imdsVia(t, plain, q, true)
	if st != 200 {
		t.Fatalf("default host: %d %v", st, body)
	}
	miClaims(t, in, body["access_token"].(string), deflt.SystemAssigned.PrincipalID, deflt.ResourceID)
	st, body = imdsVia(t, plain, q+"&client_id="+uiA.Properties.ClientID, true)
	expectRefused(t, "the default host asking for vm-a's identity", st, body, 400, "invalid_request", "Identity not found")

	// A cluster's nodes carry the kubelet and add-on identities, never the
	// control plane's.
	_, cl := in.armAdmin(t, "PUT", sub+"/resourceGroups/ids/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2023-08-01",
		`{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"c1","addonProfiles":{"azureKeyvaultSecretsProvider":{"enabled":true}}}}`)
	props := cl["properties"].(map[string]any)
	kubelet := props["identityProfile"].(map[string]any)["kubeletidentity"].(map[string]any)
	addon := props["addonProfiles"].(map[string]any)["azureKeyvaultSecretsProvider"].(map[string]any)["identity"].(map[string]any)
	node := hostEnv(t, in, "ids/c1")
	st, body = imdsVia(t, node["HTTP_PROXY"], q, true)
	expectRefused(t, "a node with kubelet and add-on identities, none named", st, body, 400, "invalid_request", "Multiple user assigned identities exist")
	if tok, stderr = kubeloginMSI(t, node, "--client-id", kubelet["clientId"].(string)); tok == "" {
		t.Fatalf("kubelogin as the kubelet identity on a node: %s", stderr)
	}
	miClaims(t, in, tok, kubelet["objectId"].(string), kubelet["resourceId"].(string))
	kube.expectUser(t, tok, kubelet["objectId"].(string))
	st, body = imdsVia(t, node["HTTP_PROXY"], q+"&object_id="+addon["objectId"].(string), true)
	if st != 200 {
		t.Fatalf("the add-on identity on a node: %d %v", st, body)
	}
	cp := cl["identity"].(map[string]any)["principalId"].(string)
	st, body = imdsVia(t, node["HTTP_PROXY"], q+"&object_id="+cp, true)
	expectRefused(t, "the control-plane identity on a node", st, body, 400, "invalid_request", "Identity not found")
}
