package apiserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Cluster is what one API server is started for. The integrator fills it
// from the managed cluster's record.
type Cluster struct {
	// ID is the cluster's ARM resource ID (compared case-insensitively):
	// it names the cluster's storage prefix and directory.
	ID string
	// FQDN is the cluster's API host name; with 127.0.0.1 and localhost
	// it is in the serving certificate, so both ways in verify.
	FQDN string
	// Serving issues the serving certificate from the cluster's CA (the
	// kubeconfig's certificate-authority-data); the chain it returns must
	// end with that CA's certificate. *pki.CA has this shape.
	Serving CertIssuer
	// ClientCA is PEM of the CAs whose client certificates sign in (the
	// cluster CA, for get-credentials --admin); nil when local accounts
	// are disabled.
	ClientCA []byte
	// Issuer is the service-account issuer: the cluster's OIDC issuer URL,
	// or "" for AKS's issuer of clusters without one.
	Issuer string
	// Key signs service-account tokens (the OIDC issuer's key, opened from
	// its seal); nil makes a key that lasts until the server stops.
	Key KeySource
	// VerifyKeys are public keys whose tokens are accepted beside Key's:
	// issuer keys a rotation replaced, while still trusted.
	VerifyKeys []crypto.PublicKey
	// AuthnWebhook reviews bearer tokens (Guard's part); nil for none.
	AuthnWebhook *Webhook
	// AuthzWebhook decides before RBAC (Azure RBAC for Kubernetes); nil
	// for RBAC alone.
	AuthzWebhook *Webhook
	// AdmissionWebhook is the credential the server presents to admission
	// webhooks at that URL's host (the webhooks themselves are objects in
	// the cluster); nil for none.
	AdmissionWebhook *Webhook
	// Objects are what aksid makes in a new cluster (its nodes, its admin
	// binding), as JSON: written with the bootstrap seed at the cluster's
	// first start, so that its first answer has them (Endpoint.Seeded).
	// Their kinds are those of clusterKinds.
	Objects []json.RawMessage
}

// CertIssuer issues a serving certificate for hosts.
type CertIssuer interface {
	Leaf(hosts []string, now time.Time) (tls.Certificate, error)
}

// KeySource yields the service-account signing key (RSA or ECDSA).
type KeySource interface {
	SigningKey(ctx context.Context) (crypto.Signer, error)
}

// Webhook is an HTTPS endpoint served by aksid that the API server calls.
type Webhook struct {
	URL string
	CA  []byte // PEM the webhook's server certificate chains to
	// Token is the bearer token the API server presents, so the webhook
	// knows which cluster asks.
	Token string
}

// noOIDCIssuer is AKS's service-account issuer for clusters without the
// OIDC issuer profile.
const noOIDCIssuer = "https://kubernetes.default.svc.cluster.local"

// serviceCIDR is AKS's default service range; its first address is the
// in-cluster "kubernetes" Service, named in the serving certificate.
const serviceCIDR = "10.0.0.0/16"

// clusterKey is a short stable name for a cluster: resource IDs are long,
// case-insensitive and full of slashes.
func clusterKey(id string) string {
	h := sha256.Sum256([]byte(strings.ToLower(id)))
	return hex.EncodeToString(h[:10])
}

func etcdPrefix(key string) string { return "/aksid/clusters/" + key }

// launch describes one start of an API server: its files and flags.
type launch struct {
	args    []string
	keyFile string // the service-account key, removed once the server has read it
	caPEM   []byte // the serving chain's root
}

// prepare writes the cluster's run files into run and returns the flags.
func prepare(ctx context.Context, c Cluster, run string, port int, e *etcd, own *localCA) (launch, error) {
	if c.Serving == nil || c.FQDN == "" || c.ID == "" {
		return launch{}, errors.New("apiserver: a cluster needs an ID, an FQDN and a serving CA")
	}
	leaf, err := c.Serving.Leaf([]string{c.FQDN, "127.0.0.1", "localhost", "10.0.0.1", "kubernetes",
		"kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}, time.Now())
	if err != nil {
		return launch{}, err
	}
	serving, err := encodePair(leaf)
	if err != nil {
		return launch{}, err
	}
	key, err := signingKeyPEM(ctx, c.Key)
	if err != nil {
		return launch{}, err
	}
	// aksid's own identity is accepted beside the cluster's client CA.
	clientCA := append(append([]byte{}, c.ClientCA...), own.pem...)
	files := map[string][]byte{
		"serving.pem": serving.cert, "serving-key.pem": serving.key, "client-ca.pem": clientCA,
		"etcd-ca.pem": e.ca, "etcd-client.pem": e.apiClient.cert, "etcd-client-key.pem": e.apiClient.key,
		"sa-key.pem": key,
	}
	f := func(name string) string { return filepath.Join(run, name) }
	// Discovery names where verifiers read the keys: the issuer's own
	// JWKS, or without one the cluster's API through its public name,
	// never the loopback address the server listens on.
	issuer, jwks := c.Issuer, strings.TrimSuffix(c.Issuer, "/")+"/openid/v1/jwks"
	if issuer == "" {
		issuer, jwks = noOIDCIssuer, "https://"+c.FQDN+":443/openid/v1/jwks"
	}
	args := []string{
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + run, "--tls-cert-file=" + f("serving.pem"), "--tls-private-key-file=" + f("serving-key.pem"),
		"--client-ca-file=" + f("client-ca.pem"), "--anonymous-auth=false",
		"--etcd-servers=" + e.url, "--etcd-prefix=" + etcdPrefix(clusterKey(c.ID)),
		"--etcd-cafile=" + f("etcd-ca.pem"), "--etcd-certfile=" + f("etcd-client.pem"), "--etcd-keyfile=" + f("etcd-client-key.pem"),
		"--service-account-issuer=" + issuer, "--service-account-jwks-uri=" + jwks,
		"--service-account-signing-key-file=" + f("sa-key.pem"), "--service-account-key-file=" + f("sa-key.pem"),
		"--service-cluster-ip-range=" + serviceCIDR, "--allow-privileged=true", "--profiling=false",
		// No kubelet runs to be an endpoint, and a loopback address is not
		// a valid one: the "kubernetes" Service keeps no endpoints.
		"--endpoint-reconciler-type=none",
		// A cluster here holds few objects: reading them from etcd costs
		// little, while the watch cache costs ~50 MB of heap per server.
		"--watch-cache=false",
		// Off, what no cluster here uses: priority and fairness (one
		// client, aksid's proxy), RuntimeClasses and dynamic resources
		// (no kubelet runs). Measured, live heap 76 -> 70 MB, and CPU
		// to readiness 2.5 -> 1.8 s (it starts on 2 cores).
		"--enable-priority-and-fairness=false",
		"--runtime-config=flowcontrol.apiserver.k8s.io/v1=false,node.k8s.io/v1=false,resource.k8s.io/v1=false",
		// The node authorizer watches ResourceSlices while this is on.
		"--feature-gates=DynamicResourceAllocation=false",
		"--disable-admission-plugins=RuntimeClass",
	}
	mode := "Node,RBAC"
	if w := c.AuthzWebhook; w != nil {
		mode = "Node,Webhook,RBAC"
		files["authz-webhook.kubeconfig"], err = webhookKubeconfig(w)
		// Denials are not cached, so a role assigned in ARM takes effect
		// at the next request; grants briefly, to spare the webhook.
		args = append(args, "--authorization-webhook-config-file="+f("authz-webhook.kubeconfig"),
			"--authorization-webhook-version=v1", "--authorization-webhook-cache-authorized-ttl=10s",
			"--authorization-webhook-cache-unauthorized-ttl=0s")
	}
	if err != nil {
		return launch{}, err
	}
	args = append(args, "--authorization-mode="+mode)
	if w := c.AuthnWebhook; w != nil {
		files["authn-webhook.kubeconfig"], err = webhookKubeconfig(w)
		args = append(args, "--authentication-token-webhook-config-file="+f("authn-webhook.kubeconfig"),
			"--authentication-token-webhook-version=v1", "--authentication-token-webhook-cache-ttl=30s")
	}
	if err != nil {
		return launch{}, err
	}
	if len(c.VerifyKeys) > 0 {
		files["sa-verify.pem"], err = publicKeysPEM(c.VerifyKeys)
		args = append(args, "--service-account-key-file="+f("sa-verify.pem"))
	}
	if err != nil {
		return launch{}, err
	}
	if w := c.AdmissionWebhook; w != nil {
		files["admission-webhook.kubeconfig"], err = admissionKubeconfig(w)
		files["admission.json"] = admissionConfig(f("admission-webhook.kubeconfig"))
		args = append(args, "--admission-control-config-file="+f("admission.json"))
	}
	if err != nil {
		return launch{}, err
	}
	for name, b := range files {
		if err := os.WriteFile(f(name), b, 0o600); err != nil {
			return launch{}, err
		}
	}
	return launch{args: args, keyFile: f("sa-key.pem"), caPEM: rootPEM(leaf)}, nil
}

// publicKeysPEM encodes keys as the PEM PUBLIC KEY blocks of a
// --service-account-key-file.
func publicKeysPEM(keys []crypto.PublicKey) ([]byte, error) {
	var out []byte
	for _, k := range keys {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...)
	}
	return out, nil
}

// webhookKubeconfig is the kubeconfig file kube-apiserver reads a
// webhook's address and credentials from (JSON is valid YAML).
func webhookKubeconfig(w *Webhook) ([]byte, error) {
	cluster := map[string]any{"server": w.URL}
	if len(w.CA) > 0 {
		cluster["certificate-authority-data"] = w.CA // []byte marshals as base64, as the field wants
	}
	user := map[string]any{}
	if w.Token != "" {
		user["token"] = w.Token
	}
	return json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "webhook",
		"clusters": []any{map[string]any{"name": "aksid", "cluster": cluster}},
		"users":    []any{map[string]any{"name": "kube-apiserver", "user": user}},
		"contexts": []any{map[string]any{"name": "webhook", "context": map[string]string{"cluster": "aksid", "user": "kube-apiserver"}}},
	})
}

// admissionConfig tells the mutating webhook plugin where its
// credentials are (an AdmissionConfiguration; JSON is valid YAML).
func admissionConfig(kubeconfig string) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
		"plugins": []any{map[string]any{"name": "MutatingAdmissionWebhook", "configuration": map[string]any{
			"apiVersion": "apiserver.config.k8s.io/v1", "kind": "WebhookAdmissionConfiguration", "kubeConfigFile": kubeconfig}}},
	})
	return b
}

// admissionKubeconfig holds the token for webhooks at w's host and port
// only: kube-apiserver picks an admission webhook's credentials by the
// user named for its host, so a webhook a user registers elsewhere gets
// none of aksid's.
func admissionKubeconfig(w *Webhook) ([]byte, error) {
	u, err := url.Parse(w.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("apiserver: admission webhook URL %q", w.URL)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":443"
	}
	return json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Config",
		"users": []any{map[string]any{"name": host, "user": map[string]any{"token": w.Token}}},
	})
}

// signingKeyPEM encodes the service-account key, or makes one when the
// cluster has none (its tokens then end with the server).
func signingKeyPEM(ctx context.Context, ks KeySource) ([]byte, error) {
	var k crypto.Signer
	var err error
	if ks != nil {
		k, err = ks.SigningKey(ctx)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	// kube-apiserver reads public keys from this file too, and that
	// reader knows EC keys only in SEC 1 form: so PKCS#1 and SEC 1.
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	}
	return nil, fmt.Errorf("apiserver: service-account key of type %T; want RSA or ECDSA", k)
}

// rootPEM is the last certificate of a chain: the CA clients trust.
func rootPEM(c tls.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[len(c.Certificate)-1]})
}
