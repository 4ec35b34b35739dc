package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/pop"
	"github.com/go-jose/go-jose/v4"
)

// popCredential runs kubelogin get-token --pop-enabled and returns the
// ExecCredential's token (the SHR) and expiry.
func popCredential(t *testing.T, env []string, args ...string) (string, time.Time) {
	t.Helper()
	cmd := exec.Command(kubeloginPath(t), append([]string{"get-token", "--pop-enabled", "--server-id", aksServerApp}, args...)...)
	home := t.TempDir()
	cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "KUBECACHEDIR=" + filepath.Join(home, "cache")}, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubelogin %v: %v\n%s", args, err, stderr.String())
	}
	var cred struct {
		Kind   string
		Status struct {
			Token               string
			ExpirationTimestamp time.Time
		}
	}
	if err := json.Unmarshal(out, &cred); err != nil || cred.Kind != "ExecCredential" {
		t.Fatalf("kubelogin output %s: %v", out, err)
	}
	return cred.Status.Token, cred.Status.ExpirationTimestamp
}

// verifyPoP runs the SHR through internal/pop for host u and checks that
// the inner token is bound (cnf) to the SHR's key and expires when the
// ExecCredential says.
func verifyPoP(t *testing.T, shr, u string, expires time.Time) (pop.Result, map[string]any) {
	t.Helper()
	// The expected host differs in case: u is compared case-insensitively.
	v, err := pop.New(pop.Options{Host: strings.ToUpper(u), Clock: clock.Wall{}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Verify(shr)
	if err != nil {
		t.Fatalf("kubelogin's SHR: %v", err)
	}
	c := claimsOf(t, r.AccessToken)
	cnf, _ := c["cnf"].(map[string]any)
	if cnf["kid"] != r.Thumbprint || cnf["xms_ksl"] != "sw" {
		t.Fatalf("inner token cnf %v, SHR key %s", c["cnf"], r.Thumbprint)
	}
	// kubelogin reports MSAL's expiry, its own clock plus expires_in: the
	// inner token's exp to within the second the response took.
	if exp := int64(c["exp"].(float64)); exp < expires.Unix()-2 || exp > expires.Unix()+2 {
		t.Fatalf("expirationTimestamp %v, inner token exp %d", expires, exp)
	}
	return r, c
}

// TestKubeloginPoP: kubelogin --pop-enabled with --login spn (client
// secret; certificate directly) and --login ropc (the admin user),
// directly and through the proxy, gets PoP tokens: the SHR passes internal/pop's checks (u, ts,
// signature, thumbprints), the inner token is bound to kubelogin's key
// and Kubernetes' JWT authenticator accepts it as the SP or the user.
// A malformed req_cnf over HTTP gets AADSTS90100, and the verifier turns
// down a tampered SHR, another host, an old ts and a swapped key.
func TestKubeloginPoP(t *testing.T) {
	in := start(t, "")
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]
	u := "/subscriptions/" + sub + "/resourceGroups/arc/providers/Microsoft.Kubernetes/connectedClusters/arc-1"
	sp := in.createSP("arc-ci")
	admin := in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"])
	spOID := in.graphObjectID(t, admin, sp.AppID)
	creds := adminUser(t, in)
	userOID := in.userObjectID(t, creds.upn)
	if spOID == "" || userOID == "" || spOID == userOID {
		t.Fatalf("object IDs sp %q user %q", spOID, userOID)
	}
	spEnv := []string{"AAD_SERVICE_PRINCIPAL_CLIENT_ID=" + sp.AppID, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=" + sp.Password}
	claims := "u=" + u

	// Directly: custom authority, instance discovery off (compat doc §0).
	direct := []string{"SSL_CERT_FILE=" + in.env["SSL_CERT_FILE"]}
	authority := []string{"--tenant-id", tid, "--authority-host", in.url + "/", "--disable-instance-discovery", "--pop-claims", claims}
	kube := newKubeAuthenticator(t, in)

	shr, exp := popCredential(t, append(direct, spEnv...), append([]string{"--login", "spn"}, authority...)...)
	r, c := verifyPoP(t, shr, u, exp)
	if c["appid"] != sp.AppID || c["idtyp"] != "app" {
		t.Fatalf("spn PoP token claims %v", c)
	}
	kube.expectUser(t, r.AccessToken, spOID)
	kube.expectRejected(t, shr, "is an SHR, not a JWT of the issuer")
	spSHR, spResult := shr, r

	// spn with a certificate: the assertion grant binds the key too.
	certSP := in.createSP("arc-cert", "--create-cert", "--cert-file", filepath.Join(t.TempDir(), "arc-cert.pem"))
	shr, exp = popCredential(t, append(direct, "AAD_SERVICE_PRINCIPAL_CLIENT_ID="+certSP.AppID,
		"AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE="+certSP.CertFile), append([]string{"--login", "spn"}, authority...)...)
	r, c = verifyPoP(t, shr, u, exp)
	if c["appid"] != certSP.AppID || c["appidacr"] != "2" {
		t.Fatalf("spn certificate PoP token claims %v", c)
	}
	kube.expectUser(t, r.AccessToken, in.graphObjectID(t, admin, certSP.AppID))

	shr, exp = popCredential(t, direct, append([]string{"--login", "ropc", "--client-id", aksClientApp,
		"--username", creds.upn, "--password", creds.password}, authority...)...)
	r, c = verifyPoP(t, shr, u, exp)
	if c["upn"] != creds.upn || c["idtyp"] != "user" {
		t.Fatalf("ropc PoP token claims %v", c)
	}
	kube.expectUser(t, r.AccessToken, userOID)

	// Through the proxy, with the public cloud's authority and issuer.
	px := parseEnvKeys(t, aksidRun(t, "env", "--data-dir", in.dataDir), "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE")
	proxied := []string{"HTTPS_PROXY=" + px["HTTPS_PROXY"], "NO_PROXY=" + px["NO_PROXY"], "SSL_CERT_FILE=" + px["SSL_CERT_FILE"]}
	public := []string{"--environment", "AzurePublicCloud", "--tenant-id", tid, "--pop-claims", claims}
	proxyKube := newProxyKubeAuthenticator(t, in)

	shr, exp = popCredential(t, append(proxied, spEnv...), append([]string{"--login", "spn"}, public...)...)
	r, c = verifyPoP(t, shr, u, exp)
	if c["iss"] != "https://sts.windows.net/"+tid+"/" || c["appid"] != sp.AppID {
		t.Fatalf("spn PoP token through the proxy: %v", c)
	}
	proxyKube.expectUser(t, r.AccessToken, spOID)

	shr, exp = popCredential(t, proxied, append([]string{"--login", "ropc", "--client-id", aksClientApp,
		"--username", creds.upn, "--password", creds.password}, public...)...)
	r, c = verifyPoP(t, shr, u, exp)
	if c["iss"] != "https://sts.windows.net/"+tid+"/" || c["upn"] != creds.upn {
		t.Fatalf("ropc PoP token through the proxy: %v", c)
	}
	proxyKube.expectUser(t, r.AccessToken, userOID)

	// Malformed PoP requests over HTTP: refused, nothing issued.
	thumb := spResult.Thumbprint
	for name, cnf := range map[string]string{
		"not base64url": "{\"kid\":\"" + thumb + "\"}",
		"not JSON":      base64.RawURLEncoding.EncodeToString([]byte("kid=" + thumb)),
		"no kid":        base64.RawURLEncoding.EncodeToString([]byte(`{"xms_ksl":"sw"}`)),
		"short kid":     base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"abc"}`)),
	} {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sp.AppID}, "client_secret": {sp.Password},
			"scope": {aksServerApp + "/.default"}, "token_type": {"pop"}, "req_cnf": {cnf}}
		if st, m := in.postToken(t, tid, form); st != 400 || errorCode(m) != 90100 || m["error"] != "invalid_request" || m["access_token"] != nil {
			t.Errorf("req_cnf %s: %d %v", name, st, m)
		}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sp.AppID}, "client_secret": {sp.Password},
		"scope": {aksServerApp + "/.default"}, "token_type": {"ssh-cert"}}
	if st, m := in.postToken(t, tid, form); st != 400 || errorCode(m) != 90100 {
		t.Errorf("token_type ssh-cert: %d %v", st, m)
	}

	// The verifier turns down what an attacker could send.
	now := time.Now()
	verifier := func(host string, at time.Time) *pop.Verifier {
		v, err := pop.New(pop.Options{Host: host, Clock: clock.Func(func() time.Time { return at })})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	parts := strings.Split(spSHR, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"nonce":"`, `"nonce":"0`, 1)))
	if _, err := verifier(u, now).Verify(strings.Join(parts, ".")); !errors.Is(err, pop.ErrSignature) {
		t.Errorf("tampered SHR: %v", err)
	}
	if _, err := verifier(u+"-other", now).Verify(spSHR); !errors.Is(err, pop.ErrHost) {
		t.Errorf("SHR for another cluster: %v", err)
	}
	if _, err := verifier(u, now.Add(16*time.Minute)).Verify(spSHR); !errors.Is(err, pop.ErrExpired) {
		t.Errorf("SHR 16 minutes later: %v", err)
	}
	if _, err := verifier(u, now).Verify(resign(t, spResult.AccessToken, u)); !errors.Is(err, pop.ErrUnbound) {
		t.Errorf("the token re-wrapped with another key: %v", err)
	}
}

// resign wraps a stolen PoP access token in an SHR made with the thief's
// own key: everything checks out except the token's binding.
func resign(t *testing.T, at, u string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "RS256"}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	kid := base64.RawURLEncoding.EncodeToString(sum)
	jwk.KeyID = kid
	jwkJSON, _ := jwk.MarshalJSON()
	payload := fmt.Sprintf(`{"at":%q,"ts":%d,"u":%q,"cnf":{"jwk":%s},"nonce":"00000000000000000000000000000000"}`, at, time.Now().Unix(), u, jwkJSON)
	signing := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"pop","alg":"RS256","kid":"`+kid+`"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(payload))
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// userObjectID finds a user's object ID through Graph, as the admin SP.
func (in *instance) userObjectID(t *testing.T, upn string) string {
	t.Helper()
	tok := getToken(t, in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"]), "https://graph.microsoft.com/.default")
	req, _ := http.NewRequest("GET", in.url+"/v1.0/users/"+url.PathEscape(upn), nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := in.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.ID == "" {
		t.Fatalf("graph lookup of %s: %d %v", upn, resp.StatusCode, err)
	}
	return body.ID
}

// popScheme is a PoP authentication scheme for MSAL Go, the extension
// point kubelogin uses: it asks for token_type=pop with req_cnf and wraps
// each access token in an SHR signed with its key.
type popScheme struct {
	key *rsa.PrivateKey
	kid string
	u   string
}

func newPoPScheme(t *testing.T, u string) popScheme {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return popScheme{key: key, kid: base64.RawURLEncoding.EncodeToString(sum), u: u}
}

func (s popScheme) TokenRequestParams() map[string]string {
	cnf := base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"` + s.kid + `","xms_ksl":"sw"}`))
	return map[string]string{"token_type": "pop", "req_cnf": cnf}
}

func (s popScheme) KeyID() string           { return s.kid }
func (s popScheme) AccessTokenType() string { return "pop" }

func (s popScheme) FormatAccessToken(at string) (string, error) {
	jwk, err := (&jose.JSONWebKey{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: "RS256"}).MarshalJSON()
	if err != nil {
		return "", err
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key}, (&jose.SignerOptions{}).WithType("pop").WithHeader("kid", s.kid))
	if err != nil {
		return "", err
	}
	payload := fmt.Sprintf(`{"at":%q,"ts":%d,"u":%q,"cnf":{"jwk":%s},"nonce":"%x"}`, at, time.Now().Unix(), s.u, jwk, time.Now().UnixNano())
	obj, err := sig.Sign([]byte(payload))
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// TestMSALGoPoPSchemeIsCached: MSAL Go's confidential client with a PoP
// authentication scheme gets a token bound to the scheme's key; the
// response's token_type pop lets MSAL cache it (the next call comes from
// the cache), and a bearer request does not get the PoP token.
func TestMSALGoPoPSchemeIsCached(t *testing.T) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	sp := in.createSP("msal-pop")
	u := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"] + "/resourceGroups/arc/providers/Microsoft.Kubernetes/connectedClusters/arc-2"
	cred, err := confidential.NewCredFromSecret(sp.Password)
	if err != nil {
		t.Fatal(err)
	}
	client, err := confidential.New(in.url+"/"+tid, sp.AppID, cred, confidential.WithHTTPClient(in.client), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	scopes := []string{aksServerApp + "/.default"}
	scheme := newPoPScheme(t, u)
	v, err := pop.New(pop.Options{Host: u, Clock: clock.Wall{}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := client.AcquireTokenByCredential(ctx, scopes, confidential.WithAuthenticationScheme(scheme))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := v.Verify(first.AccessToken)
	if err != nil || r1.Thumbprint != scheme.kid || first.Metadata.TokenSource != confidential.TokenSourceIdentityProvider {
		t.Fatalf("first PoP token: %+v %v (source %v)", r1, err, first.Metadata.TokenSource)
	}
	again, err := client.AcquireTokenByCredential(ctx, scopes, confidential.WithAuthenticationScheme(scheme))
	if err != nil || again.Metadata.TokenSource != confidential.TokenSourceCache {
		t.Fatalf("second PoP call not served from MSAL's cache: %v (source %v)", err, again.Metadata.TokenSource)
	}
	r2, err := v.Verify(again.AccessToken)
	if err != nil || r2.AccessToken != r1.AccessToken {
		t.Fatalf("cached PoP token: %v", err)
	}
	newKubeAuthenticator(t, in).expectUser(t, r2.AccessToken, claimsOf(t, r2.AccessToken)["oid"].(string))

	bearer, err := client.AcquireTokenByCredential(ctx, scopes)
	if err != nil || bearer.Metadata.TokenSource != confidential.TokenSourceIdentityProvider || claimsOf(t, bearer.AccessToken)["cnf"] != nil {
		t.Fatalf("bearer request after a PoP one: %v (source %v)", err, bearer.Metadata.TokenSource)
	}
}
