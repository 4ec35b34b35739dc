package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubeloginModes: the real kubelogin gets a token from aksid in the
// non-interactive modes — spn with a secret (flags, AAD_SERVICE_PRINCIPAL_*
// and AZURE_CLIENT_* variables) and with a PKCS#12 certificate, ropc, and
// azurecli with the real az signed in to aksid — each through the proxy
// with AKS's own arguments and directly; Kubernetes' authenticator accepts
// every token as the expected principal.
func TestKubeloginModes(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	sp := in.createSP("kubelogin-spn")
	pfx := filepath.Join(t.TempDir(), "spn.pfx")
	certSP := in.createSP("kubelogin-cert", "--create-cert", "--cert-file", pfx, "--cert-password", "pfx-pass")
	user := adminUser(t, in)
	// The user is in a group nested in another: tokens carry both.
	var outer, inner struct{ ID string }
	if err := json.Unmarshal([]byte(aksidRun(t, "group", "create", "aks-admins", "--data-dir", in.dataDir)), &outer); err != nil || outer.ID == "" {
		t.Fatalf("group create: %v", err)
	}
	if err := json.Unmarshal([]byte(aksidRun(t, "group", "create", "sre", "--data-dir", in.dataDir)), &inner); err != nil || inner.ID == "" {
		t.Fatalf("group create: %v", err)
	}
	aksidRun(t, "group", "add-member", "aks-admins", "sre", "--data-dir", in.dataDir)
	aksidRun(t, "group", "add-member", "sre", user.upn, "--data-dir", in.dataDir)
	azs := map[string]*azCLI{viaProxy: newProxyAz(t, in), viaDirect: newAz(t, in)}

	// Proxy-mode tokens also pass an authenticator that reads Azure's
	// issuer from aksid directly, as a local API server would.
	azureIssuer := newAzureIssuerKubeAuthenticator(t, in)
	for _, via := range []string{viaProxy, viaDirect} {
		kube := kubeAuthnFor(t, in, via)
		az := azs[via]
		az.loginSP(sp.AppID, sp.Password, in.env["AZURE_TENANT_ID"])
		azEnv := []string{}
		for _, e := range az.env {
			if strings.HasPrefix(e, "AZURE_CONFIG_DIR=") || strings.HasPrefix(e, "REQUESTS_CA_BUNDLE=") {
				azEnv = append(azEnv, e)
			}
		}
		for _, tc := range []struct {
			name      string
			mode      string
			args, env []string
			appID     string // the client the token must name, or
			upn       string // the user
		}{
			{"spn secret flags", "spn", []string{"--client-id", sp.AppID, "--client-secret", sp.Password}, nil, sp.AppID, ""},
			{"spn AAD_SERVICE_PRINCIPAL_*", "spn", nil, []string{"AAD_SERVICE_PRINCIPAL_CLIENT_ID=" + sp.AppID, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=" + sp.Password}, sp.AppID, ""},
			{"spn AZURE_CLIENT_*", "spn", nil, []string{"AZURE_CLIENT_ID=" + sp.AppID, "AZURE_CLIENT_SECRET=" + sp.Password}, sp.AppID, ""},
			{"spn pfx flags", "spn", []string{"--client-id", certSP.AppID, "--client-certificate", pfx},
				[]string{"AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD=pfx-pass"}, certSP.AppID, ""},
			{"spn pfx AZURE_CLIENT_CERTIFICATE_*", "spn", nil, []string{"AZURE_CLIENT_ID=" + certSP.AppID, "AZURE_CLIENT_CERTIFICATE_PATH=" + pfx,
				"AZURE_CLIENT_CERTIFICATE_PASSWORD=pfx-pass"}, certSP.AppID, ""},
			{"ropc flags", "ropc", []string{"--username", user.upn, "--password", user.password}, nil, "", user.upn},
			{"ropc AAD_USER_PRINCIPAL_*", "ropc", nil, []string{"AAD_USER_PRINCIPAL_NAME=" + user.upn, "AAD_USER_PRINCIPAL_PASSWORD=" + user.password}, "", user.upn},
			{"azurecli", "azurecli", nil, azEnv, sp.AppID, ""},
		} {
			t.Run(via+"/"+tc.name, func(t *testing.T) {
				tok := kubeloginToken(t, in.kubeloginCmd(t, via, tc.mode, tc.args, tc.env))
				c := claimsOf(t, tok)
				in.expectIssuer(t, via, c)
				if tc.appID != "" && (c["appid"] != tc.appID || c["idtyp"] != "app") {
					t.Fatalf("token claims %v, want app %s", c, tc.appID)
				}
				if tc.upn != "" && (c["upn"] != tc.upn || c["idtyp"] != "user") {
					t.Fatalf("token claims %v, want user %s", c, tc.upn)
				}
				kube.expectUser(t, tok, c["oid"].(string))
				if via == viaProxy {
					azureIssuer.expectUser(t, tok, c["oid"].(string))
				} else {
					azureIssuer.expectRejected(t, tok, "carries aksid's own issuer")
				}
				if tc.upn != "" {
					kube.expectGroups(t, tok, outer.ID, inner.ID)
				} else {
					kube.expectGroups(t, tok)
				}
			})
		}
	}
}
