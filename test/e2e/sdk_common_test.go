package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// What the Python and Node scripts (sdk_python.py, sdk-node/index.mjs)
// report, in the same shape, and the checks Go makes of it.

// sdkTokens is what a script reports for one credential.
type sdkTokens struct {
	ARM, AKS, OID, AppID, Iss string
}

// sdkStatus reads 200 or {"status": 403, "code": "AuthorizationFailed"}.
type sdkStatus struct {
	Status int
	Code   string
}

func (s *sdkStatus) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '{' {
		return json.Unmarshal(b, &s.Status)
	}
	var v struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	err := json.Unmarshal(b, &v)
	s.Status, s.Code = v.Status, v.Code
	return err
}

// sdkMain is a script's main phase: tokens, then what it made.
type sdkMain struct {
	Versions                   map[string]string
	Secret, Certificate        sdkTokens
	Default                    sdkTokens
	MSAL                       struct{ AKS, OID string }
	CertificateAssertionReused string
	Group                      struct{ ID, ProvisioningState string }
	CertificateBefore          sdkStatus
	CertificateAfter           sdkStatus
	Assignments                struct{ Contributor, Reader string }
	Cluster                    struct {
		ID, ProvisioningState, Fqdn, Issuer, PrincipalID string
		UserKubeconfig, AdminKubeconfig                  bool
		KubeconfigNames                                  []string
	}
	DefaultReadsCluster string
	DefaultWrites       sdkStatus
	Identity            struct{ ID, ClientID, PrincipalID, FederatedIssuer string }
}

// checkSDKObjects reads back through ARM, as the admin, what a script's
// main phase made (lang names it in messages and the group's tag), and
// checks RBAC held on the script's own tokens. It returns the group's ID.
func checkSDKObjects(t *testing.T, in *instance, lang string, m sdkMain, admin azcore.TokenCredential, group, cluster, identity, certOID, envOID string) string {
	t.Helper()
	tid := in.env["AZURE_TENANT_ID"]
	// What the script made, read back through ARM by Go as the admin.
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	adminARM := getToken(t, admin, armScope).Token
	groupID := "/subscriptions/" + sub + "/resourceGroups/" + group
	if g := in.armDo(t, adminARM, "GET", groupID+"?api-version=2022-09-01", "", 200); g["tags"].(map[string]any)["by"] != lang || m.Group.ID != groupID {
		t.Fatalf("group: %v (%s said %+v)", g, lang, m.Group)
	}
	ra := in.armDo(t, adminARM, "GET", m.Assignments.Contributor+"?api-version=2022-04-01", "", 200)["properties"].(map[string]any)
	if ra["principalId"] != certOID || !strings.HasSuffix(ra["roleDefinitionId"].(string), contributorRole) || !strings.EqualFold(ra["scope"].(string), groupID) {
		t.Fatalf("contributor assignment: %v", ra)
	}
	ra = in.armDo(t, adminARM, "GET", m.Assignments.Reader+"?api-version=2022-04-01", "", 200)["properties"].(map[string]any)
	if ra["principalId"] != envOID || !strings.HasSuffix(ra["roleDefinitionId"].(string), readerRole) {
		t.Fatalf("reader assignment: %v", ra)
	}
	// Enforced: refused before the assignment, allowed after (as the
	// script saw); the certificate's principal writes the group with its
	// own token, the Reader is refused.
	if m.CertificateBefore.Status != 403 || m.CertificateBefore.Code != "AuthorizationFailed" || m.CertificateAfter.Status != 200 {
		t.Fatalf("certificate principal before/after its assignment: %+v %+v", m.CertificateBefore, m.CertificateAfter)
	}
	if m.DefaultReadsCluster != "Succeeded" || m.DefaultWrites.Status != 403 || m.DefaultWrites.Code != "AuthorizationFailed" {
		t.Fatalf("reader: reads %q, writes %+v", m.DefaultReadsCluster, m.DefaultWrites)
	}
	patch := `{"tags":{"by":"` + lang + `","checked":"go"}}`
	in.armDo(t, m.Certificate.ARM, "PATCH", groupID+"?api-version=2022-09-01", patch, 200)
	in.armDo(t, m.Default.ARM, "PATCH", groupID+"?api-version=2022-09-01", patch, 403)
	in.armDo(t, m.Default.ARM, "GET", groupID+"?api-version=2022-09-01", "", 200)

	// The cluster the certificate's principal created, with its issuer.
	mc := in.armDo(t, adminARM, "GET", groupID+"/providers/Microsoft.ContainerService/managedClusters/"+cluster+"?api-version=2023-08-01", "", 200)
	props := mc["properties"].(map[string]any)
	if props["provisioningState"] != "Succeeded" || props["fqdn"] != m.Cluster.Fqdn || props["oidcIssuerProfile"].(map[string]any)["issuerURL"] != m.Cluster.Issuer ||
		mc["identity"].(map[string]any)["principalId"] != m.Cluster.PrincipalID || m.Cluster.ProvisioningState != "Succeeded" {
		t.Fatalf("cluster: %v (%s said %+v)", mc, lang, m.Cluster)
	}
	if !m.Cluster.UserKubeconfig || !m.Cluster.AdminKubeconfig || strings.Join(m.Cluster.KubeconfigNames, ",") != "clusterUser,clusterAdmin" {
		t.Fatalf("cluster credentials: %+v", m.Cluster)
	}
	ident := in.armDo(t, adminARM, "GET", groupID+"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"+identity+"?api-version=2023-01-31", "", 200)["properties"].(map[string]any)
	if ident["clientId"] != m.Identity.ClientID || ident["principalId"] != m.Identity.PrincipalID || ident["tenantId"] != tid || m.Identity.ClientID == "" ||
		m.Identity.FederatedIssuer != m.Cluster.Issuer {
		t.Fatalf("identity: %v (%s said %+v)", ident, lang, m.Identity)
	}
	return groupID
}

// armDo sends one ARM request to aksid's own URL with a bearer token and
// checks the status.
func (in *instance) armDo(t *testing.T, token, method, path, body string, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, in.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := in.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// checkSDKTokens checks a script's ARM and AKS tokens for one credential:
// the principal, the issuer of the way in (iss), the audiences, and that
// Kubernetes' authenticator takes the AKS token as it takes Go's and
// refuses the ARM one. It returns the ARM token's claims.
func (in *instance) checkSDKTokens(t *testing.T, what string, tok sdkTokens, oid, appID, iss string, kube *kubeAuthn) map[string]any {
	t.Helper()
	arm, aks := claimsOf(t, tok.ARM), claimsOf(t, tok.AKS)
	if tok.OID != oid || arm["oid"] != oid || arm["appid"] != appID || arm["iss"] != iss || arm["tid"] != in.env["AZURE_TENANT_ID"] ||
		arm["aud"] != "https://management.azure.com" || aks["aud"] != aksServerApp || aks["iss"] != iss || aks["oid"] != oid {
		t.Fatalf("%s: want oid %s appid %s iss %s; ARM token %v, AKS token %v", what, oid, appID, iss, arm, aks)
	}
	kube.expectRejected(t, tok.ARM, "is meant for ARM, not the AKS server application")
	kube.expectUser(t, tok.AKS, oid)
	return arm
}

// podEnv is a pod's environment as AKS's workload identity webhook sets
// it: the kubelet's projected token for the service account sa of
// cluster (<group>/<name>, from `aksid cluster sa-token`) in a file, the
// identity's client ID and the authority of the way in.
func (in *instance) podEnv(t *testing.T, way string, shell map[string]string, cluster, sa, clientID string) map[string]string {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "azure-identity-token")
	tok := strings.TrimSpace(aksidRun(t, "cluster", "sa-token", cluster, "--namespace", "default", "--service-account", sa, "--data-dir", in.dataDir))
	if err := os.WriteFile(tokenFile, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	authority := "https://login.microsoftonline.com/"
	if way == "direct" {
		authority = shell["AZURE_AUTHORITY_HOST"]
	}
	return map[string]string{"AZURE_CLIENT_ID": clientID, "AZURE_FEDERATED_TOKEN_FILE": tokenFile, "AZURE_AUTHORITY_HOST": authority}
}
