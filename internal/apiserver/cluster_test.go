package apiserver

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/pki"
)

func TestClusterKey(t *testing.T) {
	a := clusterKey("/subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerService/managedClusters/C")
	if a != clusterKey(strings.ToLower("/subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerService/managedClusters/C")) {
		t.Error("resource IDs are case-insensitive; their keys must be too")
	}
	if a == clusterKey("/subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerService/managedClusters/D") {
		t.Error("two clusters share a key")
	}
}

func TestPrepareFlagsAndFiles(t *testing.T) {
	ring, err := keyring.Random()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadOrCreateCA(t.TempDir(), ring, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	own, err := newLocalCA("test")
	if err != nil {
		t.Fatal(err)
	}
	e := &etcd{url: "https://127.0.0.1:1", ca: own.pem, apiClient: pemPair{[]byte("c"), []byte("k")}}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := Cluster{ID: "/x", FQDN: "c.hcp.eastus.azmk8s.io", Serving: ca, Key: staticKey{rk}, Issuer: "https://issuer/",
		AuthnWebhook:     &Webhook{URL: "https://127.0.0.1:8443/guard/authn", CA: ca.CertPEM, Token: "secret"},
		AuthzWebhook:     &Webhook{URL: "https://127.0.0.1:8443/guard/authz", CA: ca.CertPEM},
		AdmissionWebhook: &Webhook{URL: "https://127.0.0.1:8443/kubeapi/mutate", CA: ca.CertPEM, Token: "secret"}}

	run := t.TempDir()
	l, err := prepare(t.Context(), c, run, 6443, e, own)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--authorization-mode=Node,Webhook,RBAC", "--anonymous-auth=false", "--bind-address=127.0.0.1",
		"--secure-port=6443", "--service-account-issuer=https://issuer/", "--etcd-prefix=/aksid/clusters/" + clusterKey("/x"),
		"--authentication-token-webhook-version=v1", "--authorization-webhook-version=v1"} {
		if !slices.Contains(l.args, want) {
			t.Errorf("missing %s in %v", want, l.args)
		}
	}
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
				CAData []byte `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			User struct{ Token string } `json:"user"`
		} `json:"users"`
	}
	b, err := os.ReadFile(filepath.Join(run, "authn-webhook.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &kc); err != nil {
		t.Fatal(err)
	}
	if kc.Clusters[0].Cluster.Server != c.AuthnWebhook.URL || string(kc.Clusters[0].Cluster.CAData) != string(ca.CertPEM) || kc.Users[0].User.Token != "secret" {
		t.Errorf("authn webhook kubeconfig: %s", b)
	}
	// Admission webhooks: the token only for aksid's host and port.
	if !slices.Contains(l.args, "--admission-control-config-file="+filepath.Join(run, "admission.json")) {
		t.Errorf("no admission configuration in %v", l.args)
	}
	var ac struct {
		Plugins []struct {
			Name          string
			Configuration struct{ KubeConfigFile string }
		}
	}
	if b, err = os.ReadFile(filepath.Join(run, "admission.json")); err != nil || json.Unmarshal(b, &ac) != nil ||
		len(ac.Plugins) != 1 || ac.Plugins[0].Name != "MutatingAdmissionWebhook" {
		t.Fatalf("admission configuration %s: %v", b, err)
	}
	var akc struct {
		Users []struct {
			Name string
			User struct{ Token string }
		}
	}
	if b, err = os.ReadFile(ac.Plugins[0].Configuration.KubeConfigFile); err != nil || json.Unmarshal(b, &akc) != nil ||
		len(akc.Users) != 1 || akc.Users[0].Name != "127.0.0.1:8443" || akc.Users[0].User.Token != "secret" {
		t.Fatalf("admission webhook kubeconfig %s: %v", b, err)
	}
	key, err := os.ReadFile(l.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if blk, _ := pem.Decode(key); blk == nil || blk.Type != "RSA PRIVATE KEY" {
		t.Errorf("service-account key file: %.40q", key)
	}
	if fi, err := os.Stat(l.keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v", fi.Mode(), err)
	}

	// Without webhooks: RBAC alone, no webhook files; no key: one is made.
	c.AuthnWebhook, c.AuthzWebhook, c.AdmissionWebhook, c.Key, c.Issuer = nil, nil, nil, nil, ""
	l, err = prepare(t.Context(), c, t.TempDir(), 6443, e, own)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(l.args, "--authorization-mode=Node,RBAC") || !slices.Contains(l.args, "--service-account-issuer="+noOIDCIssuer) {
		t.Errorf("args without webhooks: %v", l.args)
	}
	for _, a := range l.args {
		if strings.Contains(a, "webhook") || strings.Contains(a, "admission-control-config") {
			t.Errorf("webhook flag without a webhook: %s", a)
		}
	}

	c.FQDN = ""
	if _, err := prepare(t.Context(), c, t.TempDir(), 6443, e, own); err == nil {
		t.Error("a cluster without an FQDN was prepared")
	}
}

// Without etcd the start fails and says which package brings it.
func TestStartWithoutEtcd(t *testing.T) {
	s, err := New(Config{DataDir: t.TempDir(), Binary: "/bin/true", Etcd: "/nonexistent/etcd"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Start(t.Context(), Cluster{ID: "/x", FQDN: "x"})
	if err == nil || !strings.Contains(err.Error(), "etcd-server") {
		t.Fatalf("Start without etcd: %v", err)
	}
	if _, ok := s.Running("/x"); ok {
		t.Error("running after a failed start")
	}
}
