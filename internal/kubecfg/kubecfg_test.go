package kubecfg

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const converted = `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://c:443"}
  name: c
users:
- name: spn-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, spn, --server-id, s, --authority-host, "https://old/", --disable-instance-discovery]
      env: null
- name: msi-user
  user:
    exec: {command: kubelogin, args: [get-token, --login, msi, --server-id, s]}
- name: cert-user
  user: {client-certificate-data: Zm9v}
- name: other-plugin
  user:
    exec: {command: gke-gcloud-auth-plugin, args: [get-token]}
`

func TestAddAuthority(t *testing.T) {
	rw, err := AddAuthority([]byte(converted), "https://127.0.0.1:8443/")
	if err != nil || rw.Users != 1 {
		t.Fatalf("changed %d: %v", rw.Users, err)
	}
	out := rw.Config
	var doc struct {
		Users []struct {
			Name string
			User map[string]any
		}
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	args := func(i int) string {
		e, _ := doc.Users[i].User["exec"].(map[string]any)
		var s []string
		for _, a := range e["args"].([]any) {
			s = append(s, a.(string))
		}
		return strings.Join(s, " ")
	}
	if got := args(0); got != "get-token --login spn --server-id s --authority-host https://127.0.0.1:8443/ --disable-instance-discovery" {
		t.Fatalf("spn args: %s", got)
	}
	if got := args(1); strings.Contains(got, "authority") {
		t.Fatalf("msi needs no authority: %s", got)
	}
	if got := args(3); got != "get-token" {
		t.Fatalf("another plugin changed: %s", got)
	}
	if doc.Users[2].User["client-certificate-data"] != "Zm9v" || !strings.Contains(string(out), "server: https://c:443") {
		t.Fatalf("other content lost:\n%s", out)
	}
	// Running it twice changes nothing more.
	again, err := AddAuthority(out, "https://127.0.0.1:8443/")
	if err != nil || string(again.Config) != string(out) {
		t.Fatalf("not idempotent:\n%s", again.Config)
	}
	if _, err := AddAuthority([]byte(converted), "https://127.0.0.1:8443"); err == nil {
		t.Fatal("an authority host without the trailing slash kubelogin requires was taken")
	}
	if _, err := AddAuthority([]byte("users: ["), "https://h/"); err == nil {
		t.Fatal("broken YAML was taken")
	}
}
