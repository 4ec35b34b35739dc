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
	"testing"
	"time"
)

const (
	debianPython = "/usr/bin/python3" // Debian's, whose dist-packages hold python3-azure; another python3 may come first on PATH
	pySubject    = "system:serviceaccount:default:py-sa"
)

type pyWorkload struct {
	Credential         string
	Workload, Default  sdkTokens
	WorkloadReadsGroup string
	DefaultReadsGroup  string
}

type pyIMDS struct {
	ManagedIdentity, Default  sdkTokens
	ManagedIdentityReadsGroup string
	DefaultReadsGroup         string
}

// TestPythonSDK: the Azure SDK for Python from Debian's packages
// (python3-azure: azure-identity 1.13.0b2, azure-mgmt-resource,
// -authorization, -msi, -containerservice; python3-msal 1.21), run by
// Debian's own interpreter, against aksid both ways in: through the proxy
// with only `aksid env`'s variables (the script as written for Azure), and
// directly with the ADFS-shaped authority or the beta's
// instance_discovery=False, base_url and credential_scopes. Secret,
// certificate and environment credentials, MSAL on its own, a resource
// group, role assignments (where Debian's az crashes), a user-assigned
// identity with a federated credential, a cluster and its credentials;
// then workload identity in a pod's environment and managed identity
// through IMDS on a VM's. Go checks what it made through ARM and that
// Kubernetes' authenticator accepts Python's AKS tokens as Go's.
func TestPythonSDK(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/lib/python3/dist-packages/azure/mgmt/containerservice"); err != nil {
		t.Fatal("Debian's python3-azure is not installed: `make test` installs it")
	}
	for _, way := range []string{"proxy", "direct"} {
		t.Run(way, func(t *testing.T) { testPythonSDK(t, way) })
	}
}

func testPythonSDK(t *testing.T, way string) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	admin := in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"])
	certSP := in.createSP("py-cert", "--create-cert", "--cert-file", filepath.Join(t.TempDir(), "py-cert.pem"))
	envSP := in.createSP("py-env")
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
	shell := parseEnvKeys(t, aksidRun(t, args...), "AZURE_TENANT_ID", "AKSID_SUBSCRIPTION_ID", "REQUESTS_CA_BUNDLE")
	group, cluster, identity := "py-"+way, "py-"+way+"-aks", "py-"+way+"-id"
	names := map[string]string{"PY_GROUP": group, "PY_CLUSTER": cluster, "PY_IDENTITY": identity, "PY_SUBJECT": pySubject}

	// checkTokens: the claims of that way, the principal expected, and
	// Kubernetes' authenticator taking the AKS token as it takes Go's.
	// 1. The operator's principals.
	var m sdkMain
	runPython(t, way, "main", &m, shell, names, map[string]string{
		"PY_CERT_CLIENT_ID": certSP.AppID, "PY_CERT_FILE": certSP.CertFile,
		"AZURE_CLIENT_ID": envSP.AppID, "AZURE_CLIENT_SECRET": envSP.Password, // DefaultAzureCredential's EnvironmentCredential
	})
	t.Logf("python %v", m.Versions)
	if m.CertificateAssertionReused != "accepted" {
		t.Errorf("MSAL's certificate assertion, presented again for a second scope: %q, want accepted", m.CertificateAssertionReused)
	}
	in.checkSDKTokens(t, "ClientSecretCredential", m.Secret, in.graphObjectID(t, admin, in.env["AKSID_ADMIN_CLIENT_ID"]), in.env["AKSID_ADMIN_CLIENT_ID"], issuer, kube)
	in.checkSDKTokens(t, "CertificateCredential", m.Certificate, certOID, certSP.AppID, issuer, kube)
	if c := claimsOf(t, m.Certificate.ARM); c["appidacr"] != "2" {
		t.Fatalf("certificate token appidacr %v", c["appidacr"])
	}
	in.checkSDKTokens(t, "DefaultAzureCredential (environment)", m.Default, envOID, envSP.AppID, issuer, kube)
	if m.MSAL.OID != envOID || claimsOf(t, m.MSAL.AKS)["iss"] != issuer {
		t.Fatalf("MSAL: %+v", m.MSAL)
	}
	kube.expectUser(t, m.MSAL.AKS, envOID)

	groupID := checkSDKObjects(t, in, "python", m, admin, group, cluster, identity, certOID, envOID)
	logs := in.logText()
	if way == "proxy" && !strings.Contains(logs, "host=management.azure.com path="+groupID+"/providers/Microsoft.ContainerService/managedClusters/"+cluster) {
		t.Fatal("the cluster was not created through the proxy as management.azure.com")
	}
	// Microsoft.ManagedIdentity was not registered: azure-mgmt-core
	// registered it on aksid's 409 and replayed the PUT.
	if !strings.Contains(logs, "method=POST") || !strings.Contains(logs, "path=/subscriptions/"+in.env["AKSID_SUBSCRIPTION_ID"]+"/providers/Microsoft.ManagedIdentity/register status=200") {
		t.Fatal("the SDK did not register Microsoft.ManagedIdentity itself")
	}

	// 2. A pod of that cluster, as AKS's workload identity webhook sets
	// it up: the kubelet's projected token (`aksid cluster sa-token`).
	var w pyWorkload
	runPython(t, way, "workload", &w, shell, names, in.podEnv(t, way, shell, group+"/"+cluster, "py-sa", m.Identity.ClientID))
	t.Logf("workload identity through %s", w.Credential)
	in.checkSDKTokens(t, "workload identity", w.Workload, m.Identity.PrincipalID, m.Identity.ClientID, issuer, kube)
	in.checkSDKTokens(t, "DefaultAzureCredential (workload identity)", w.Default, m.Identity.PrincipalID, m.Identity.ClientID, issuer, kube)
	if c := claimsOf(t, w.Workload.ARM); !strings.EqualFold(c["xms_mirid"].(string), m.Identity.ID) {
		t.Fatalf("workload identity token names %v", c["xms_mirid"])
	}
	if w.WorkloadReadsGroup != group || w.DefaultReadsGroup != group {
		t.Fatalf("the identity (Reader) could not read its group: %+v", w)
	}

	// 3. A VM the identity is assigned to: IMDS through HTTP_PROXY naming
	// it. IMDS tokens carry Azure's issuer whichever way the VM's other
	// traffic goes.
	hostCreate(t, in, "py-vm", "--identity", m.Identity.ID)
	host := hostEnv(t, in, "py-vm")
	vm := maps.Clone(shell)
	vm["HTTP_PROXY"], vm["http_proxy"] = host["HTTP_PROXY"], host["http_proxy"]
	vm["NO_PROXY"], vm["no_proxy"] = "127.0.0.1,localhost,::1", "127.0.0.1,localhost,::1"
	var d pyIMDS
	runPython(t, way, "imds", &d, vm, names, map[string]string{"AZURE_CLIENT_ID": m.Identity.ClientID})
	azureIss := "https://sts.windows.net/" + tid + "/"
	mik := newProxyKubeAuthenticator(t, in)
	in.checkSDKTokens(t, "ManagedIdentityCredential (IMDS)", d.ManagedIdentity, m.Identity.PrincipalID, m.Identity.ClientID, azureIss, mik)
	in.checkSDKTokens(t, "DefaultAzureCredential (IMDS)", d.Default, m.Identity.PrincipalID, m.Identity.ClientID, azureIss, mik)
	if d.ManagedIdentityReadsGroup != group || d.DefaultReadsGroup != group {
		t.Fatalf("the identity (Reader) could not read its group through IMDS tokens: %+v", d)
	}
}

// runPython runs testdata/sdk_python.py with Debian's interpreter in an
// environment made only of the maps given (later ones win), and decodes
// its JSON.
func runPython(t *testing.T, way, phase string, out any, envs ...map[string]string) {
	t.Helper()
	script, err := filepath.Abs("testdata/sdk_python.py")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": "/usr/bin:/bin", "HOME": t.TempDir(), "LANG": "C.UTF-8"}
	for _, e := range envs {
		maps.Copy(env, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, script, way, phase)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python %s %s: %v\n%s", way, phase, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("python %s %s: output is not the JSON expected: %v\n%s", way, phase, err, stdout.String())
	}
}
