package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The oidc-provider peer issues tokens for this resource only, with this
// one scope (bench/oidcprovider/server.mjs says the same).
const (
	peerResource = "https://management.azure.com/"
	peerScope    = "user_impersonation"
	peerClientID = "aksid-bench"
	peerStart    = 30 * time.Second
)

// peer is another token service run beside aksid for comparison.
type peer struct {
	proc     *proc  // the server process: its CPU time and VmRSS; url is its issuer
	tokenURL string // where the client-credentials form is posted
	caPath   string // PEM CA certificate that verifies its TLS
	form     string // URL-encoded client-credentials request
}

// client is an HTTPS client that posts the peer's form to its token URL.
func (pr *peer) client(tb testing.TB) *client {
	tb.Helper()
	return newFormClient(tb, pr.tokenURL, pr.caPath, pr.form)
}

// startOIDCProvider runs panva's oidc-provider (bench/oidcprovider/server.mjs)
// under node on 127.0.0.1 with its own TLS, installing its node_modules
// first if they are missing; the process is stopped when tb ends.
func startOIDCProvider(tb testing.TB) *peer {
	tb.Helper()
	dir, err := filepath.Abs("oidcprovider")
	if err != nil {
		tb.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("the oidc-provider peer needs Node.js (node, 20 or later) and npm on PATH: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		npmCI(tb, dir)
	}

	tmp := tb.TempDir()
	caPath, certPath, keyPath := writePeerTLS(tb, tmp)
	secret := rand.Text()
	p := &proc{stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	out := &lineWatch{prefix: "listening ", found: make(chan string, 1)}
	p.cmd = exec.Command(node, "server.mjs")
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(),
		"TLS_CERT_FILE="+certPath, "TLS_KEY_FILE="+keyPath, "PORT=0",
		"CLIENT_ID="+peerClientID, "CLIENT_SECRET="+secret)
	p.cmd.Stdout = out
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("starting node server.mjs: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	tb.Cleanup(func() {
		select {
		case <-p.exited: // gone already: startup or the failed requests said so
		default:
			if err := p.stop(); err != nil {
				tb.Error(err)
			}
		}
	})
	select {
	case p.url = <-out.found:
	case <-p.exited:
		tb.Fatalf("node server.mjs exited early (%v): %s", p.cmd.ProcessState, p.stderr.String())
	case <-time.After(peerStart):
		tb.Fatalf("node server.mjs printed no listening line within %v", peerStart)
	}
	if _, err := url.Parse(p.url); err != nil || !strings.HasPrefix(p.url, "https://127.0.0.1:") {
		tb.Fatalf("node server.mjs: unexpected listening line %q", p.url)
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {peerClientID},
		"client_secret": {secret},
		"resource":      {peerResource},
		"scope":         {peerScope},
	}.Encode()
	return &peer{proc: p, tokenURL: p.url + "/token", caPath: caPath, form: form}
}

// npmCI installs bench/oidcprovider's locked dependencies (a clean clone
// has none: node_modules is not committed).
func npmCI(tb testing.TB, dir string) {
	tb.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		tb.Fatalf("the oidc-provider peer needs npm (with Node.js 20 or later) on PATH to install %s/node_modules: %v", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// lineWatch is a process's stdout: it hands the rest of the first line
// that starts with prefix to found and discards everything else.
type lineWatch struct {
	prefix  string
	found   chan string
	partial []byte
	done    bool
}

func (w *lineWatch) Write(b []byte) (int, error) {
	if w.done {
		return len(b), nil
	}
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := strings.TrimSpace(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
		if rest, ok := strings.CutPrefix(line, w.prefix); ok {
			w.found <- rest
			w.done, w.partial = true, nil
			return len(b), nil
		}
	}
}

// writePeerTLS writes a fresh self-signed ECDSA P-256 CA and a server
// certificate for 127.0.0.1 that it signs, as PEM files in dir.
func writePeerTLS(tb testing.TB, dir string) (caPath, certPath, keyPath string) {
	tb.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "aksid bench peer CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			tb.Fatal(err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", der), write("server-key.pem", "PRIVATE KEY", keyDER)
}

// TestOIDCProviderPeer checks the peer a benchmark compares aksid with:
// one client-credentials token from oidc-provider is an RS256 JWT for the
// resource that verifies against the provider's JWKS.
func TestOIDCProviderPeer(t *testing.T) {
	pr := startOIDCProvider(t)
	c := pr.client(t)
	ctx := context.Background()
	tok, err := c.accessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatalf("JWT header %s: %v", raw, err)
	}
	if hdr.Alg != "RS256" {
		t.Fatalf("JWT header %s: want alg RS256", raw)
	}

	set, err := fetchJWKS(ctx, c.http, pr.proc.url+"/jwks")
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(hdr.Kid)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q, want 1", len(keys), hdr.Kid)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	var extra struct {
		Scope    string `json:"scope"`
		ClientID string `json:"client_id"`
	}
	if err := parsed.Claims(keys[0], &claims, &extra); err != nil {
		t.Fatalf("verifying the token against the JWKS: %v", err)
	}
	if err := claims.Validate(jwt.Expected{
		Issuer:      pr.proc.url,
		AnyAudience: jwt.Audience{peerResource},
		Time:        time.Now(),
	}); err != nil {
		t.Fatalf("token claims %+v: %v", claims, err)
	}
	if extra.Scope != peerScope || extra.ClientID != peerClientID {
		t.Fatalf("token scope %q client_id %q, want %q %q", extra.Scope, extra.ClientID, peerScope, peerClientID)
	}
}

// fetchJWKS gets and decodes a JSON Web Key Set.
func fetchJWKS(ctx context.Context, hc *http.Client, jwksURL string) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", jwksURL, resp.StatusCode, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("GET %s: %v", jwksURL, err)
	}
	return &set, nil
}
