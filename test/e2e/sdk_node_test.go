package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type nodeWorkload struct {
	Workload, Default  sdkTokens
	WorkloadReadsGroup string
	DefaultReadsGroup  string
}

const nodeSubject = "system:serviceaccount:default:node-sa"

// TestNodeSDK: the Azure SDK for JavaScript from npm (@azure/identity 4,
// @azure/msal-node, @azure/arm-resources, -authorization,
// -containerservice, -msi; exact versions in
// testdata/sdk-node/package.json) on the machine's Node, against aksid
// both ways in: through the proxy with only `aksid env`'s variables (the
// script as written for Azure), and directly with authorityHost,
// disableInstanceDiscovery and the clients' endpoint and ARM scope. Secret,
// certificate and environment credentials, MSAL Node on its own, a
// resource group, role assignments, a user-assigned identity, a cluster
// and its credentials, a user-assigned identity with a federated
// credential; then WorkloadIdentityCredential and DefaultAzureCredential
// in a pod's environment. Go checks what Node made through ARM and that
// Kubernetes' authenticator accepts Node's AKS tokens as Go's.
func TestNodeSDK(t *testing.T) {
	t.Parallel()
	dir := nodeInstall(t)
	for _, way := range []string{"proxy", "direct"} {
		t.Run(way, func(t *testing.T) { testNodeSDK(t, dir, way) })
	}
}

func testNodeSDK(t *testing.T, dir, way string) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	admin := in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"])
	certSP := in.createSP("node-cert", "--create-cert", "--cert-file", filepath.Join(t.TempDir(), "node-cert.pem"))
	envSP := in.createSP("node-env")
	adminOID := in.graphObjectID(t, admin, in.env["AKSID_ADMIN_CLIENT_ID"])
	certOID, envOID := in.graphObjectID(t, admin, certSP.AppID), in.graphObjectID(t, admin, envSP.AppID)

	// What the shell of that way has: `aksid env` or `aksid env --direct`.
	args := []string{"env", "--data-dir", in.dataDir}
	issuer := "https://sts.windows.net/" + tid + "/"
	kube := newProxyKubeAuthenticator(t, in)
	if way == "direct" {
		args = append(args, "--direct")
		issuer = in.url + "/" + tid + "/"
		kube = newKubeAuthenticator(t, in)
	}
	shell := parseEnvKeys(t, aksidRun(t, args...), "AZURE_TENANT_ID", "AKSID_SUBSCRIPTION_ID", "NODE_EXTRA_CA_CERTS")
	if way == "proxy" && shell["HTTPS_PROXY"] == "" {
		t.Fatal("aksid env exports no HTTPS_PROXY")
	}
	group, cluster, identity := "node-"+way, "node-"+way+"-aks", "node-"+way+"-id"

	var m sdkMain
	names := map[string]string{"NODE_GROUP": group, "NODE_CLUSTER": cluster, "NODE_IDENTITY": identity, "NODE_SUBJECT": nodeSubject}
	runNode(t, dir, way, "main", &m, shell, names, map[string]string{
		"NODE_CERT_CLIENT_ID": certSP.AppID, "NODE_CERT_FILE": certSP.CertFile,
		"AZURE_CLIENT_ID": envSP.AppID, "AZURE_CLIENT_SECRET": envSP.Password, // DefaultAzureCredential's EnvironmentCredential
	})
	t.Logf("node %v", m.Versions)

	// The claims of that way, the principal expected, and Kubernetes'
	// authenticator taking the AKS token as it takes Go's.
	checkTokens := func(what string, tok sdkTokens, oid, appID string) map[string]any {
		return in.checkSDKTokens(t, what, tok, oid, appID, issuer, kube)
	}
	checkTokens("ClientSecretCredential", m.Secret, adminOID, in.env["AKSID_ADMIN_CLIENT_ID"])
	checkTokens("ClientCertificateCredential", m.Certificate, certOID, certSP.AppID)
	if c := claimsOf(t, m.Certificate.ARM); c["appidacr"] != "2" {
		t.Fatalf("certificate token appidacr %v", c["appidacr"])
	}
	checkTokens("DefaultAzureCredential (environment)", m.Default, envOID, envSP.AppID)
	if m.MSAL.OID != envOID || claimsOf(t, m.MSAL.AKS)["iss"] != issuer {
		t.Fatalf("MSAL Node: %+v", m.MSAL)
	}
	kube.expectUser(t, m.MSAL.AKS, envOID)

	groupID := checkSDKObjects(t, in, "node", m, admin, group, cluster, identity, certOID, envOID)

	// Which way the requests came: through the proxy as Azure's hosts, or
	// to aksid's own address.
	logs := in.logText()
	host := "management.azure.com"
	if way == "direct" {
		host = strings.TrimPrefix(in.url, "https://")
	}
	if !strings.Contains(logs, "host="+host+" path="+groupID+"/providers/Microsoft.ContainerService/managedClusters/"+cluster) {
		t.Fatalf("the cluster was not created through %s", host)
	}
	if way == "proxy" && !strings.Contains(logs, "method=CONNECT host=login.microsoftonline.com:443") {
		t.Fatal("no token request went through the proxy to login.microsoftonline.com")
	}

	// A pod of that cluster, as AKS's workload identity webhook sets it
	// up: the kubelet's projected token (`aksid cluster sa-token`).
	var w nodeWorkload
	runNode(t, dir, way, "workload", &w, shell, names, in.podEnv(t, way, shell, group+"/"+cluster, "node-sa", m.Identity.ClientID))
	for what, tok := range map[string]sdkTokens{"WorkloadIdentityCredential": w.Workload, "DefaultAzureCredential (workload identity)": w.Default} {
		if c := checkTokens(what, tok, m.Identity.PrincipalID, m.Identity.ClientID); !strings.EqualFold(c["xms_mirid"].(string), m.Identity.ID) {
			t.Fatalf("%s: token names %v", what, c["xms_mirid"])
		}
	}
	if w.WorkloadReadsGroup != group || w.DefaultReadsGroup != group {
		t.Fatalf("the identity (Reader) could not read its group: %+v", w)
	}
}

var nodeInstallOnce struct {
	sync.Mutex
	done bool
}

// nodeInstall installs testdata/sdk-node's locked dependencies with
// `npm ci` (node_modules is not committed) unless every pinned package is
// already there at its version, and returns the directory.
func nodeInstall(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/sdk-node")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("TestNodeSDK needs Node.js 20 or later and npm on PATH (`make deps` installs them): %v", err)
		}
	}
	nodeInstallOnce.Lock()
	defer nodeInstallOnce.Unlock()
	if nodeInstallOnce.done || nodeModulesCurrent(dir) {
		nodeInstallOnce.done = true
		return dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	// npm's registry traffic must not go to an aksid proxy of the shell
	// the tests run in.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.EqualFold(k, "https_proxy") && !strings.EqualFold(k, "http_proxy") && !strings.EqualFold(k, "all_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	nodeInstallOnce.done = true
	return dir
}

// nodeModulesCurrent: every dependency package.json pins is installed at
// that version.
func nodeModulesCurrent(dir string) bool {
	var pkg struct{ Dependencies map[string]string }
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil || json.Unmarshal(b, &pkg) != nil {
		return false
	}
	for name, want := range pkg.Dependencies {
		var got struct{ Version string }
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
		if err != nil || json.Unmarshal(b, &got) != nil || got.Version != want {
			return false
		}
	}
	return true
}

// runNode runs `node index.mjs way phase` in an environment made only of PATH,
// HOME and the maps given (later ones win), and decodes its JSON.
func runNode(t *testing.T, dir, way, phase string, out any, envs ...map[string]string) {
	t.Helper()
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": t.TempDir(), "LANG": "C.UTF-8"}
	for _, e := range envs {
		maps.Copy(env, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "index.mjs", way, phase)
	cmd.Dir = dir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node index.mjs %s %s: %v\n%s", way, phase, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node index.mjs %s %s: output is not the JSON expected: %v\n%s", way, phase, err, stdout.String())
	}
}
