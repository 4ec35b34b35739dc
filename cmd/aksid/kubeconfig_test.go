package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/app"
)

// TestKubeconfigDirectPointsUsersAndClusters: `aksid kubeconfig direct`
// rewrites a converted kubeconfig in place, kubelogin users to sign in at
// aksid and AKS clusters to reach their API server through it, keeps the
// file's mode and says how many of each it rewrote.
func TestKubeconfigDirectPointsUsersAndClusters(t *testing.T) {
	dir := t.TempDir()
	const url = "https://127.0.0.1:8443"
	if err := app.DataDir(dir).WriteServerInfo(app.ServerInfo{URL: url, Addr: "127.0.0.1:8443", PID: os.Getpid()}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config")
	kc := `apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority-data: Q0E=, server: "https://aks1-dns-1a2b3c4d.hcp.westus2.azmk8s.io:443"}
  name: aks1
- cluster: {server: "https://kind.local:6443"}
  name: kind
users:
- name: clusterUser_rg_aks1
  user:
    exec: {command: kubelogin, args: [get-token, --login, spn, --server-id, s]}
`
	if err := os.WriteFile(path, []byte(kc), 0o640); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "kubeconfig", "direct", "--data-dir", dir, "--kubeconfig", path)
	if err != nil || !strings.Contains(out, "1 kubelogin user(s) now sign in at "+url+"/") ||
		!strings.Contains(out, "1 AKS cluster(s) reach their API server through "+url) {
		t.Fatalf("aksid kubeconfig direct: %v %q", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server: " + url + "\n", "tls-server-name: aks1-dns-1a2b3c4d.hcp.westus2.azmk8s.io",
		"server: https://kind.local:6443", "--authority-host", "certificate-authority-data: Q0E="} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("rewritten kubeconfig lacks %q:\n%s", want, b)
		}
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("mode: %v %v", st.Mode(), err)
	}
	if _, err := os.Stat(path + ".aksid-tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
	if _, _, err := runCLI(t, "kubeconfig", "direct", "--data-dir", dir, "--kubeconfig", path); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(b) {
		t.Fatalf("a second run changed the file:\n%s", again)
	}
}
