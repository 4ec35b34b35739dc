package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/plugin/pkg/authenticator/token/oidc"
)

// TestWorkloadIdentityOnAKS: the workload identity docs with the real
// clients. az creates a cluster with the OIDC issuer (workload identity
// turned on through az rest, which az 2.45 has no flag for), an identity
// and its federated credential; `aksid cluster sa-token` stands in for the
// kubelet's projected token, which Kubernetes' own authenticator accepts
// from the cluster's issuer; azidentity's WorkloadIdentityCredential and
// kubelogin (directly and through the proxy) exchange it for the
// identity's token, which Kubernetes' authenticator accepts as the
// identity's principal. Mismatches get Entra's codes over HTTP.
func TestWorkloadIdentityOnAKS(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	az := newAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	az.ok("group", "create", "--name", "wiGroup", "--location", "westus2", "-o", "none")
	az.ok("provider", "register", "--namespace", "Microsoft.ContainerService")

	// The cluster, its issuer, and workload identity switched on.
	var cluster map[string]any
	az.json(&cluster, "aks", "create", "-g", "wiGroup", "-n", "wiCluster", "--enable-managed-identity", "--enable-oidc-issuer", "--generate-ssh-keys")
	issuer := az.ok("aks", "show", "-g", "wiGroup", "-n", "wiCluster", "--query", "oidcIssuerProfile.issuerUrl", "-o", "tsv")
	if !regexp.MustCompile(`^https://westus2\.oic\.prod-aks\.azure\.com/` + tid + `/[0-9a-f-]{36}/$`).MatchString(issuer) {
		t.Fatalf("issuer %q", issuer)
	}
	body := map[string]any{"location": "westus2", "identity": cluster["identity"],
		"properties": map[string]any{"oidcIssuerProfile": map[string]any{"enabled": true}, "securityProfile": map[string]any{"workloadIdentity": map[string]any{"enabled": true}}}}
	bodyFile := filepath.Join(t.TempDir(), "cluster.json")
	b, _ := json.Marshal(body)
	if err := os.WriteFile(bodyFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	clusterID := cluster["id"].(string)
	az.ok("rest", "--method", "put", "--url", clusterID+"?api-version=2023-08-01", "--body", "@"+bodyFile, "-o", "none")
	if wi := az.ok("aks", "show", "-g", "wiGroup", "-n", "wiCluster", "--query", "securityProfile.workloadIdentity.enabled", "-o", "tsv"); wi != "true" {
		t.Fatalf("workload identity: %q", wi)
	}

	// The identity and its federated credential, as the docs create them.
	var ident struct{ ClientID, PrincipalID, ID string }
	az.json(&ident, "identity", "create", "-g", "wiGroup", "-n", "wiIdentity")
	subject := "system:serviceaccount:default:workload-identity-sa"
	var fic struct {
		Name, Issuer, Subject string
		Audiences             []string
	}
	az.json(&fic, "identity", "federated-credential", "create", "--name", "kubeFederated", "--identity-name", "wiIdentity", "--resource-group", "wiGroup",
		"--issuer", issuer, "--subject", subject, "--audiences", "api://AzureADTokenExchange")
	if fic.Name != "kubeFederated" || fic.Issuer != issuer || fic.Subject != subject || len(fic.Audiences) != 1 {
		t.Fatalf("federated-credential create: %+v", fic)
	}
	if n := az.ok("identity", "federated-credential", "list", "--identity-name", "wiIdentity", "-g", "wiGroup", "--query", "length(@)"); n != "1" {
		t.Fatalf("federated-credential list: %s", n)
	}

	// The pod's projected token.
	tokenFile := filepath.Join(t.TempDir(), "azure-identity-token")
	saToken := strings.TrimSpace(aksidRun(t, "cluster", "sa-token", "wiGroup/wiCluster", "--namespace", "default", "--service-account", "workload-identity-sa", "--data-dir", in.dataDir))
	if c := claimsOf(t, saToken); c["iss"] != issuer || c["sub"] != subject || c["aud"] == nil {
		t.Fatalf("service-account token %v", c)
	}
	if err := os.WriteFile(tokenFile, []byte(saToken), 0o600); err != nil {
		t.Fatal(err)
	}
	// The issuer is a proper OIDC issuer: Kubernetes' own authenticator,
	// reading its discovery and keys through the proxy, accepts the token.
	empty := ""
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	saAuthn, err := oidc.New(ctx, oidc.Options{
		JWTAuthenticator: apiserver.JWTAuthenticator{
			Issuer:        apiserver.Issuer{URL: issuer, Audiences: []string{"api://AzureADTokenExchange"}},
			ClaimMappings: apiserver.ClaimMappings{Username: apiserver.PrefixedClaimOrExpression{Claim: "sub", Prefix: &empty}},
		},
		Client: &http.Client{Timeout: 30 * time.Second, Transport: in.proxyTransport(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); saAuthn.HealthCheck() != nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("service-account authenticator never initialised: %v", saAuthn.HealthCheck())
		}
	}
	if resp, ok, err := saAuthn.AuthenticateToken(ctx, saToken); err != nil || !ok || resp.User.GetName() != subject {
		t.Fatalf("kubernetes on the service-account token: %v %v %+v", ok, err, resp)
	}
	kube := newKubeAuthenticator(t, in)

	// (a) azidentity's WorkloadIdentityCredential, directly.
	cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: in.azOptions(),
		ClientID: ident.ClientID, TenantID: tid, TokenFilePath: tokenFile, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{aksServerApp + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, tok.Token)
	if c["oid"] != ident.PrincipalID || !strings.EqualFold(c["xms_mirid"].(string), ident.ID) || c["appid"] != ident.ClientID {
		t.Fatalf("workload identity token %v", c)
	}
	kube.expectUser(t, tok.Token, ident.PrincipalID)

	// (b) kubelogin, directly: authority host and instance discovery off.
	home := t.TempDir()
	kl := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(kubeloginPath(t), append([]string{"get-token", "--login", "workloadidentity", "--server-id", aksServerApp}, args...)...)
		cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "KUBECACHEDIR=" + filepath.Join(home, "cache"),
			"AZURE_CLIENT_ID=" + ident.ClientID, "AZURE_TENANT_ID=" + tid, "AZURE_FEDERATED_TOKEN_FILE=" + tokenFile}, env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubelogin %v: %v\n%s", args, err, stderr.String())
		}
		var ec struct {
			Kind   string
			Status struct{ Token string }
		}
		if err := json.Unmarshal(out, &ec); err != nil || ec.Kind != "ExecCredential" {
			t.Fatalf("kubelogin output %s: %v", out, err)
		}
		return ec.Status.Token
	}
	direct := kl([]string{"AZURE_AUTHORITY_HOST=" + in.url + "/", "SSL_CERT_FILE=" + in.env["SSL_CERT_FILE"]}, "--disable-instance-discovery")
	if c := claimsOf(t, direct); c["iss"] != in.url+"/"+tid+"/" || c["oid"] != ident.PrincipalID {
		t.Fatalf("kubelogin direct claims %v", c)
	}
	kube.expectUser(t, direct, ident.PrincipalID)

	// (b) kubelogin through the proxy, on the public cloud as AKS's kubeconfig has it.
	px := parseEnvKeys(t, aksidRun(t, "env", "--data-dir", in.dataDir), "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE")
	proxied := kl([]string{"HTTPS_PROXY=" + px["HTTPS_PROXY"], "NO_PROXY=" + px["NO_PROXY"], "SSL_CERT_FILE=" + px["SSL_CERT_FILE"]},
		"--environment", "AzurePublicCloud")
	if c := claimsOf(t, proxied); c["iss"] != "https://sts.windows.net/"+tid+"/" || c["oid"] != ident.PrincipalID {
		t.Fatalf("kubelogin proxy claims %v", c)
	}
	newProxyKubeAuthenticator(t, in).expectUser(t, proxied, ident.PrincipalID)

	// (d) Refusals over HTTP with Entra's codes; nothing issued.
	other := strings.TrimSpace(aksidRun(t, "cluster", "sa-token", "wiGroup/wiCluster", "--service-account", "other-sa", "--data-dir", in.dataDir))
	wrongAud := strings.TrimSpace(aksidRun(t, "cluster", "sa-token", "wiGroup/wiCluster", "--service-account", "workload-identity-sa", "--audience", "api://other", "--data-dir", in.dataDir))
	for _, tc := range []struct {
		name, assertion string
		code            int
	}{
		{"wrong subject", other, 700213},
		{"wrong audience", wrongAud, 700212},
	} {
		st, m := in.assertionToken(ident.ClientID, tc.assertion)
		if st != 401 || m["error"] != "invalid_client" || errorCode(m) != tc.code || m["access_token"] != nil {
			t.Fatalf("%s: %d %v", tc.name, st, m)
		}
	}
	// An identity trusting another issuer: the cluster's token names the wrong one.
	var second struct{ ClientID string }
	az.json(&second, "identity", "create", "-g", "wiGroup", "-n", "otherIdentity")
	az.ok("identity", "federated-credential", "create", "--name", "github", "--identity-name", "otherIdentity", "--resource-group", "wiGroup",
		"--issuer", "https://token.actions.githubusercontent.com", "--subject", subject, "-o", "none")
	if st, m := in.assertionToken(second.ClientID, saToken); st != 401 || errorCode(m) != 700211 {
		t.Fatalf("wrong issuer: %d %v", st, m)
	}
	// Deleting the credential ends the trust.
	az.ok("identity", "federated-credential", "delete", "--name", "kubeFederated", "--identity-name", "wiIdentity", "-g", "wiGroup", "--yes")
	if st, m := in.assertionToken(ident.ClientID, saToken); st == 200 || errorCode(m) != 70021 {
		t.Fatalf("after delete: %d %v", st, m)
	}
}

// assertionToken posts a client-assertion client-credentials form.
func (in *instance) assertionToken(clientID, assertion string) (int, map[string]any) {
	in.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {aksServerApp + "/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	return in.postToken(in.t, in.env["AZURE_TENANT_ID"], form)
}
