package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/admin"
)

// TestClusterIssuerSignsWorkloadIdentityTokens: a cluster created with
// the OIDC issuer and workload identity publishes an issuer on AKS's
// regional host (served in process and through the proxy); its
// service-account tokens, matched by an identity's federated credential,
// get the identity's token at the token endpoint; refusals carry Entra's
// codes; deleting the cluster takes its issuer along.
func TestClusterIssuerSignsWorkloadIdentityTokens(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	tid := s.Creds.TenantID
	armTok := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		st, m, raw := s.arm(t, armTok, method, path, body)
		if st != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, st, want, raw)
		}
		return m
	}
	call("PUT", sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`, 201)
	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.ManagedIdentity"} {
		call("POST", sub+"/providers/"+ns+"/register?api-version=2021-04-01", "", 200)
	}
	clusters := sub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/"
	m := call("PUT", clusters+"wi?api-version=2023-08-01", `{"location":"westus2","identity":{"type":"SystemAssigned"},
		"properties":{"dnsPrefix":"wi","oidcIssuerProfile":{"enabled":true},"securityProfile":{"workloadIdentity":{"enabled":true}}}}`, 201)
	props := m["properties"].(map[string]any)
	issuer, _ := props["oidcIssuerProfile"].(map[string]any)["issuerURL"].(string)
	if !regexp.MustCompile(`^https://westus2\.oic\.prod-aks\.azure\.com/`+tid+`/[0-9a-f-]{36}/$`).MatchString(issuer) ||
		props["securityProfile"].(map[string]any)["workloadIdentity"].(map[string]any)["enabled"] != true {
		t.Fatalf("cluster %v", props)
	}
	// Workload identity needs an issuer; an issuer cannot be turned off.
	if st, _, raw := s.arm(t, armTok, "PUT", clusters+"noissuer?api-version=2023-08-01", `{"location":"westus2","properties":{"dnsPrefix":"n","oidcIssuerProfile":{"enabled":false},"securityProfile":{"workloadIdentity":{"enabled":true}}}}`); st != 400 || !strings.Contains(raw, "InvalidParameter") {
		t.Fatalf("workload identity without issuer: %d %s", st, raw)
	}
	// As AKS from 1.34, a new cluster has an issuer unless told otherwise
	// (az aks create without --enable-oidc-issuer).
	unsaid := call("PUT", clusters+"unsaid?api-version=2023-08-01", `{"location":"westus2","properties":{"dnsPrefix":"u","securityProfile":{"workloadIdentity":{"enabled":true}}}}`, 201)
	if p := unsaid["properties"].(map[string]any)["oidcIssuerProfile"].(map[string]any); p["enabled"] != true || !strings.HasPrefix(p["issuerURL"].(string), "https://westus2.oic.prod-aks.azure.com/") {
		t.Fatalf("a new 1.34 cluster's issuer, unasked: %v", p)
	}
	if st, _, raw := s.arm(t, armTok, "PUT", clusters+"wi?api-version=2023-08-01", `{"location":"westus2","properties":{"oidcIssuerProfile":{"enabled":false}}}`); st != 400 {
		t.Fatalf("disabling the issuer: %d %s", st, raw)
	}
	// A cluster created without it enables it later (az aks update --enable-oidc-issuer).
	call("PUT", clusters+"later?api-version=2023-08-01", `{"location":"eastus","properties":{"dnsPrefix":"l","oidcIssuerProfile":{"enabled":false}}}`, 201)
	later := call("PUT", clusters+"later?api-version=2023-08-01", `{"location":"eastus","properties":{"oidcIssuerProfile":{"enabled":true}}}`, 200)
	if u := later["properties"].(map[string]any)["oidcIssuerProfile"].(map[string]any)["issuerURL"]; !strings.HasPrefix(u.(string), "https://eastus.oic.prod-aks.azure.com/") {
		t.Fatalf("enabled later: %v", u)
	}

	// The issuer's documents, through the proxy as any client reads them.
	proxied := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL(t, s.URL)), TLSClientConfig: s.client.Transport.(*http.Transport).TLSClientConfig}}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, proxied, issuer+".well-known/openid-configuration", &disc)
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, proxied, disc.JWKSURI, &jwks)
	if disc.Issuer != issuer || len(jwks.Keys) != 1 || jwks.Keys[0]["kty"] != "RSA" || jwks.Keys[0]["d"] != nil {
		t.Fatalf("discovery %+v, keys %v", disc, jwks.Keys)
	}

	// An identity trusting the cluster's default/wl service account.
	ident := call("PUT", sub+"/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/wl-id?api-version=2023-01-31", `{"location":"westus2"}`, 201)
	ip := ident["properties"].(map[string]any)
	call("PUT", ident["id"].(string)+"/federatedIdentityCredentials/kube?api-version=2022-01-31-preview",
		`{"properties":{"issuer":"`+issuer+`","subject":"system:serviceaccount:default:wl","audiences":["api://AzureADTokenExchange"]}}`, 201)
	clusterID := clusters + "wi"
	saToken := func(sa string) string {
		t.Helper()
		tok, err := s.Ops.ServiceAccountToken(ctx, admin.SATokenRequest{ClusterID: clusterID, Namespace: "default", ServiceAccount: sa})
		if err != nil || tok.Issuer != issuer {
			t.Fatalf("sa token: %v %+v", err, tok)
		}
		return tok.Token
	}
	exchange := func(clientID, assertion string) (int, map[string]any, string) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {"6dae42f8-4368-4678-94ff-3960e28e3630/.default"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
		return s.post(t, "/"+tid+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", form.Encode())
	}
	st, tok, raw := exchange(ip["clientId"].(string), saToken("wl"))
	if st != 200 {
		t.Fatalf("exchange: %d %s", st, raw)
	}
	c := jwtClaims(t, tok["access_token"].(string))
	if c["oid"] != ip["principalId"] || !strings.EqualFold(c["xms_mirid"].(string), ident["id"].(string)) || c["idtyp"] != "app" || c["aud"] != "6dae42f8-4368-4678-94ff-3960e28e3630" {
		t.Fatalf("claims %v", c)
	}
	if st, m, raw := exchange(ip["clientId"].(string), saToken("other")); st != 401 || m["error"] != "invalid_client" || !strings.HasPrefix(m["error_description"].(string), "AADSTS700213:") {
		t.Fatalf("other service account: %d %s", st, raw)
	}
	if _, err := s.Ops.ServiceAccountToken(ctx, admin.SATokenRequest{ClusterID: clusters + "noissuer", Namespace: "default", ServiceAccount: "wl"}); err == nil {
		t.Fatal("a token from a cluster that does not exist")
	}
	if _, err := s.Ops.ServiceAccountToken(ctx, admin.SATokenRequest{ClusterID: clusterID, Namespace: "Bad_NS", ServiceAccount: "wl"}); err == nil {
		t.Fatal("a token for an invalid namespace")
	}

	// The cluster goes, its issuer with it. (Keys already read stay
	// trusted until the cache's TTL, as Entra caches issuers' keys.)
	call("DELETE", clusterID+"?api-version=2023-08-01", "", 202)
	if resp, err := proxied.Get(issuer + ".well-known/openid-configuration"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("issuer after delete: %v %v", resp, err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func getJSON(t *testing.T, c *http.Client, u string, v any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, v) != nil {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
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
