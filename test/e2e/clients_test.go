package e2e

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

const (
	aksServerApp = "6dae42f8-4368-4678-94ff-3960e28e3630"
	armScope     = "https://management.core.windows.net//.default"
)

// azOptions points azidentity at aksid: authority host, instance
// discovery off (aksid is not a host MSAL knows), the CA trusted.
func (in *instance) azOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: in.env["AZURE_AUTHORITY_HOST"]},
		// ForceAttemptHTTP2 as azcore's default transport does: the SDK sends
		// some $filter values unencoded, which only HTTP/2 carries.
		Transport: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.pool}, ForceAttemptHTTP2: true}},
	}
}

func (in *instance) secretCredential(t *testing.T, appID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(in.env["AZURE_TENANT_ID"], appID, secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: in.azOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// claimsOf decodes a JWT's payload (the signature is checked elsewhere,
// by the Kubernetes authenticator).
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.40q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func getToken(t *testing.T, cred azcore.TokenCredential, scope string) azcore.AccessToken {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		t.Fatalf("GetToken(%s): %v", scope, err)
	}
	return tok
}

// TestRealClientsGetTokens: azidentity's secret and certificate
// credentials and MSAL Go's confidential client get tokens for ARM and
// the AKS server application, and those tokens pass Kubernetes' own JWT
// authenticator as the service principal's object ID.
func TestRealClientsGetTokens(t *testing.T) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	secretSP := in.createSP("ci-secret")
	certSP := in.createSP("ci-cert", "--create-cert", "--cert-file", t.TempDir()+"/ci-cert.pem")
	if certSP.CertFile == "" || certSP.Password != "" {
		t.Fatalf("create-cert output %+v", certSP)
	}
	authn := newKubeAuthenticator(t, in)
	check := func(t *testing.T, tok, wantAud, wantAppID, wantAcr string) {
		t.Helper()
		c := claimsOf(t, tok)
		if c["aud"] != wantAud || c["appid"] != wantAppID || c["appidacr"] != wantAcr || c["tid"] != tid ||
			c["iss"] != in.url+"/"+tid+"/" || c["ver"] != "1.0" || c["idtyp"] != "app" {
			t.Fatalf("claims %v", c)
		}
	}

	t.Run("azidentity ClientSecretCredential", func(t *testing.T) {
		cred := in.secretCredential(t, secretSP.AppID, secretSP.Password)
		arm := getToken(t, cred, armScope).Token
		check(t, arm, "https://management.core.windows.net/", secretSP.AppID, "1")
		authn.expectRejected(t, arm, "is meant for ARM, not the AKS server application")
		aks := getToken(t, cred, aksServerApp+"/.default")
		check(t, aks.Token, aksServerApp, secretSP.AppID, "1")
		if time.Until(aks.ExpiresOn) < 55*time.Minute {
			t.Fatalf("token expires too soon: %v", aks.ExpiresOn)
		}
		authn.expectUser(t, aks.Token, claimsOf(t, aks.Token)["oid"].(string))
	})

	t.Run("azidentity ClientCertificateCredential", func(t *testing.T) {
		pem, err := os.ReadFile(certSP.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		certs, key, err := azidentity.ParseCertificates(pem, nil)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := azidentity.NewClientCertificateCredential(tid, certSP.AppID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: in.azOptions(), DisableInstanceDiscovery: true, SendCertificateChain: true})
		if err != nil {
			t.Fatal(err)
		}
		check(t, getToken(t, cred, armScope).Token, "https://management.core.windows.net/", certSP.AppID, "2")
		aks := getToken(t, cred, aksServerApp+"/.default").Token
		check(t, aks, aksServerApp, certSP.AppID, "2")
		authn.expectUser(t, aks, claimsOf(t, aks)["oid"].(string))
	})

	t.Run("MSAL Go confidential client", func(t *testing.T) {
		cred, err := confidential.NewCredFromSecret(secretSP.Password)
		if err != nil {
			t.Fatal(err)
		}
		client, err := confidential.New(in.url+"/"+tid, secretSP.AppID, cred, confidential.WithInstanceDiscovery(false),
			confidential.WithHTTPClient(in.client))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, scope := range []string{armScope, aksServerApp + "/.default"} {
			res, err := client.AcquireTokenByCredential(ctx, []string{scope})
			if err != nil {
				t.Fatalf("%s: %v", scope, err)
			}
			want := strings.TrimSuffix(scope, "/.default")
			check(t, res.AccessToken, want, secretSP.AppID, "1")
			// A second call is served from MSAL's cache, so the response
			// passed MSAL's checks (scope echo, expiry) and was stored.
			again, err := client.AcquireTokenByCredential(ctx, []string{scope})
			if err != nil || again.AccessToken != res.AccessToken || again.Metadata.TokenSource != confidential.TokenSourceCache {
				t.Fatalf("second call not from cache: %v", err)
			}
		}
	})

	t.Run("bootstrap admin principal from aksid env", func(t *testing.T) {
		cred := in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"])
		check(t, getToken(t, cred, armScope).Token, "https://management.core.windows.net/", in.env["AKSID_ADMIN_CLIENT_ID"], "1")
	})
}
