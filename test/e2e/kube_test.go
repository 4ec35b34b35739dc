package e2e

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/plugin/pkg/authenticator/token/oidc"
)

type kubeAuthn struct {
	authenticator.Token
}

type caBytes []byte

func (c caBytes) CurrentCABundleContent() []byte { return c }

// newKubeAuthenticator configures Kubernetes' JWT authenticator as an API
// server would for AKS: issuer = the v1 issuer of the tenant on aksid's
// own URL (discovery fetched from aksid), audience = the AKS server
// application, username and uid from oid, groups from groups.
func newKubeAuthenticator(t *testing.T, in *instance) *kubeAuthn {
	t.Helper()
	ca, err := os.ReadFile(in.env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	return kubeAuthenticator(t, in.url+"/"+in.env["AZURE_TENANT_ID"]+"/", oidc.Options{CAContentProvider: caBytes(ca)})
}

// newKubeUserAuthenticator maps only username and uid. Past 200 groups a
// token names its groups through Graph (_claim_sources); Kubernetes'
// authenticator cannot follow that (it expects a JWT from a GET), so a
// cluster that maps groups refuses such tokens, and AKS resolves them in
// its webhook instead.
func newKubeUserAuthenticator(t *testing.T, in *instance) *kubeAuthn {
	t.Helper()
	ca, err := os.ReadFile(in.env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	return kubeAuthenticatorMapping(t, in.url+"/"+in.env["AZURE_TENANT_ID"]+"/", oidc.Options{CAContentProvider: caBytes(ca)}, false)
}

// newProxyKubeAuthenticator is the same for a real AKS cluster's issuer,
// https://sts.windows.net/<tid>/, with discovery and keys fetched through
// aksid's proxy: the tokens proxy mode and the managed-identity endpoint
// issue.
func newProxyKubeAuthenticator(t *testing.T, in *instance) *kubeAuthn {
	t.Helper()
	return kubeAuthenticator(t, "https://sts.windows.net/"+in.env["AZURE_TENANT_ID"]+"/",
		oidc.Options{Client: &http.Client{Timeout: 30 * time.Second, Transport: in.proxyTransport(t)}})
}

// newAzureIssuerKubeAuthenticator accepts the same tokens as
// newProxyKubeAuthenticator without a proxy: issuer
// https://sts.windows.net/<tid>/, discovery from aksid's own URL
// (/<tid>/azure/.well-known/openid-configuration), as a cluster's API
// server on this machine would be configured.
func newAzureIssuerKubeAuthenticator(t *testing.T, in *instance) *kubeAuthn {
	t.Helper()
	ca, err := os.ReadFile(in.env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	tid := in.env["AZURE_TENANT_ID"]
	o := oidc.Options{CAContentProvider: caBytes(ca)}
	o.JWTAuthenticator.Issuer.DiscoveryURL = in.url + "/" + tid + "/azure/.well-known/openid-configuration"
	return kubeAuthenticator(t, "https://sts.windows.net/"+tid+"/", o)
}

// kubeAuthnFor is the authenticator for tokens that came in via.
func kubeAuthnFor(t *testing.T, in *instance, via string) *kubeAuthn {
	if via == viaProxy {
		return newProxyKubeAuthenticator(t, in)
	}
	return newKubeAuthenticator(t, in)
}

func kubeAuthenticator(t *testing.T, issuer string, o oidc.Options) *kubeAuthn {
	t.Helper()
	return kubeAuthenticatorMapping(t, issuer, o, true)
}

func kubeAuthenticatorMapping(t *testing.T, issuer string, o oidc.Options, mapGroups bool) *kubeAuthn {
	t.Helper()
	empty := ""
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var groups apiserver.PrefixedClaimOrExpression
	if mapGroups {
		groups = apiserver.PrefixedClaimOrExpression{Claim: "groups", Prefix: &empty}
	}
	o.JWTAuthenticator = apiserver.JWTAuthenticator{
		Issuer: apiserver.Issuer{URL: issuer, Audiences: []string{aksServerApp}, DiscoveryURL: o.JWTAuthenticator.Issuer.DiscoveryURL},
		ClaimMappings: apiserver.ClaimMappings{
			Username: apiserver.PrefixedClaimOrExpression{Claim: "oid", Prefix: &empty},
			UID:      apiserver.ClaimOrExpression{Claim: "oid"},
			Groups:   groups,
		},
	}
	a, err := oidc.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	// Initialisation is asynchronous: wait until discovery has been read.
	deadline := time.Now().Add(30 * time.Second)
	for a.HealthCheck() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("authenticator never initialised: %v", a.HealthCheck())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &kubeAuthn{Token: a}
}

// expectUser asserts the token authenticates as username = uid = oid.
func (k *kubeAuthn) expectUser(t *testing.T, token, oid string) {
	t.Helper()
	resp, ok, err := k.AuthenticateToken(context.Background(), token)
	if err != nil || !ok {
		t.Fatalf("kubernetes rejected the token: ok=%v err=%v", ok, err)
	}
	if resp.User.GetName() != oid || resp.User.GetUID() != oid {
		t.Fatalf("kubernetes user %q uid %q, want %q", resp.User.GetName(), resp.User.GetUID(), oid)
	}
}

// expectGroups asserts the token authenticates with exactly these groups.
func (k *kubeAuthn) expectGroups(t *testing.T, token string, want ...string) {
	t.Helper()
	resp, ok, err := k.AuthenticateToken(context.Background(), token)
	if err != nil || !ok {
		t.Fatalf("kubernetes rejected the token: ok=%v err=%v", ok, err)
	}
	got := slices.Clone(resp.User.GetGroups())
	got = slices.DeleteFunc(got, func(g string) bool { return g == "system:authenticated" })
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("kubernetes groups %v, want %v", got, want)
	}
}

// expectRejected asserts the token does not authenticate.
func (k *kubeAuthn) expectRejected(t *testing.T, token, why string) {
	t.Helper()
	_, ok, err := k.AuthenticateToken(context.Background(), token)
	if ok {
		t.Fatalf("kubernetes accepted a token that %s", why)
	}
	if err != nil && strings.Contains(err.Error(), "not initialized") {
		t.Fatalf("authenticator not ready: %v", err)
	}
}
