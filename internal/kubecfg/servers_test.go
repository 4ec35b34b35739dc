package kubecfg

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// As az aks get-credentials writes it, with a cluster that is not AKS's,
// one whose host only looks like it, and a private cluster's.
const fromAz = `apiVersion: v1
kind: Config
current-context: aks1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://aks1-dns-1a2b3c4d.hcp.westus2.azmk8s.io:443
  name: aks1
- cluster:
    certificate-authority-data: Q0I=
    server: https://Aks2-0f0f0f0f.hcp.eastus.azmk8s.io
  name: aks2
- cluster: {server: "https://kind.local:6443", insecure-skip-tls-verify: true}
  name: kind
- cluster: {server: "https://a.b.hcp.westus2.azmk8s.io:443"}
  name: lookalike
- cluster: {server: "http://aks3-00000000.hcp.westus2.azmk8s.io"}
  name: plain-http
- cluster: {server: "https://aks4-11111111.5f1c0e8a-1111-4444-8888-999999999999.privatelink.westus2.azmk8s.io:443"}
  name: private
contexts:
- context: {cluster: aks1, user: clusterUser_rg_aks1}
  name: aks1
users:
- name: clusterUser_rg_aks1
  user: {token: t}
`

type kubeconfig struct {
	Clusters []struct {
		Name    string
		Cluster map[string]any
	}
}

func parse(t *testing.T, b []byte) kubeconfig {
	t.Helper()
	var kc kubeconfig
	if err := yaml.Unmarshal(b, &kc); err != nil {
		t.Fatal(err)
	}
	return kc
}

func TestPointServersSendsAKSClustersThroughAksid(t *testing.T) {
	rw, err := PointServers([]byte(fromAz), "https://127.0.0.1:8443/")
	if err != nil || rw.Clusters != 2 {
		t.Fatalf("clusters %d: %v", rw.Clusters, err)
	}
	kc := parse(t, rw.Config)
	want := map[string][2]any{
		"aks1":       {"https://127.0.0.1:8443", "aks1-dns-1a2b3c4d.hcp.westus2.azmk8s.io"},
		"aks2":       {"https://127.0.0.1:8443", "Aks2-0f0f0f0f.hcp.eastus.azmk8s.io"},
		"kind":       {"https://kind.local:6443", nil},
		"lookalike":  {"https://a.b.hcp.westus2.azmk8s.io:443", nil},
		"plain-http": {"http://aks3-00000000.hcp.westus2.azmk8s.io", nil},
		"private":    {"https://aks4-11111111.5f1c0e8a-1111-4444-8888-999999999999.privatelink.westus2.azmk8s.io:443", nil},
	}
	for _, c := range kc.Clusters {
		w := want[c.Name]
		if c.Cluster["server"] != w[0] || c.Cluster["tls-server-name"] != w[1] {
			t.Errorf("%s: server %v, tls-server-name %v; want %v", c.Name, c.Cluster["server"], c.Cluster["tls-server-name"], w)
		}
	}
	if kc.Clusters[0].Cluster["certificate-authority-data"] != "Q0E=" || kc.Clusters[2].Cluster["insecure-skip-tls-verify"] != true ||
		!strings.Contains(string(rw.Config), "current-context: aks1") || !strings.Contains(string(rw.Config), "token: t") {
		t.Fatalf("other content lost:\n%s", rw.Config)
	}

	// A second run changes nothing; a new aksid URL moves the pointed
	// entries, which keep their tls-server-name.
	again, err := PointServers(rw.Config, "https://127.0.0.1:8443")
	if err != nil || string(again.Config) != string(rw.Config) || again.Clusters != 2 {
		t.Fatalf("not idempotent (%d, %v):\n%s", again.Clusters, err, again.Config)
	}
	moved, err := PointServers(rw.Config, "https://localhost:9443")
	if err != nil || moved.Clusters != 2 {
		t.Fatalf("moved: %d %v", moved.Clusters, err)
	}
	if c := parse(t, moved.Config).Clusters[0].Cluster; c["server"] != "https://localhost:9443" || c["tls-server-name"] != "aks1-dns-1a2b3c4d.hcp.westus2.azmk8s.io" {
		t.Fatalf("moved: %v", c)
	}

	for _, bad := range []string{"", "http://127.0.0.1:8443", "127.0.0.1:8443"} {
		if _, err := PointServers([]byte(fromAz), bad); err == nil {
			t.Errorf("aksid URL %q was taken", bad)
		}
	}
	if _, err := PointServers([]byte("clusters: ["), "https://h"); err == nil {
		t.Fatal("broken YAML was taken")
	}
}

// Both rewrites together are what `aksid kubeconfig direct` does.
func TestPointServersAfterAddAuthority(t *testing.T) {
	users, err := AddAuthority([]byte(converted), "https://127.0.0.1:8443/")
	if err != nil {
		t.Fatal(err)
	}
	both, err := PointServers(users.Config, "https://127.0.0.1:8443")
	if err != nil || both.Clusters != 0 || string(both.Config) != string(users.Config) {
		t.Fatalf("a kubeconfig without AKS clusters changed (%d, %v):\n%s", both.Clusters, err, both.Config)
	}
}
