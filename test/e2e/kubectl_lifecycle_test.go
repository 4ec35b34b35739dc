package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKubectlDirect: in custom-cloud mode, with no proxy at all, `aksid
// kubeconfig direct` points AKS's kubeconfig at aksid's own URL with the
// cluster's name as tls-server-name, and kubectl reaches the cluster's API
// server through aksid's port: an Entra cluster with kubelogin's ropc, and
// a plain cluster's admin certificate.
func TestKubectlDirect(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	alice := in.createUser(t, "--name", "alice@aksid.local")
	admins := in.adminGroup(t, alice.UPN)
	k := newKubeShell(t, in)
	k.direct = true
	k.ok(`aksid az-cloud
az login --service-principal -u "$AKSID_ADMIN_CLIENT_ID" -p "$AKSID_ADMIN_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
az group create -n kube-rg -l eastus -o none
az aks create -g kube-rg -n entra --enable-aad --aad-admin-group-object-ids ` + admins + ` --generate-ssh-keys -o none
az aks get-credentials -g kube-rg -n entra
kubelogin convert-kubeconfig -l ropc
aksid kubeconfig direct`)
	server := k.ok(`kubectl config view -o jsonpath='{.clusters[0].cluster.server} {.clusters[0].cluster.tls-server-name}'`)
	if f := strings.Fields(server); len(f) != 2 || f[0] != in.url || !strings.HasSuffix(f[1], ".hcp.eastus.azmk8s.io") {
		t.Fatalf("server after aksid kubeconfig direct: %q, want %s and the cluster's fqdn", server, in.url)
	}
	k.expectNodes(3, ropc(alice)...)
	if w := k.whoami(ropc(alice)...); w.Status.UserInfo.Username != alice.UPN || !containsFold(w.Status.UserInfo.Groups, admins) {
		t.Fatalf("directly, alice is %+v", w.Status.UserInfo)
	}
	k.ok(`az aks create -g kube-rg -n plain --node-count 1 --generate-ssh-keys -o none
az aks get-credentials -g kube-rg -n plain --admin --overwrite-existing
aksid kubeconfig direct`)
	k.expectNodes(1)
}

// TestKubectlClusterLifecycle: a cluster's Kubernetes objects follow it.
// Scaling the pool changes the nodes; `az aks update --enable-aad` brings
// Entra sign-in to the running cluster; `az aks stop` stops the API server
// and kubectl is told why; `az aks start` brings it back with its objects
// and a service account's token still valid, as does an aksid restart;
// `az aks rotate-certs` (refused while stopped) gives it a new CA and new
// nodes; `az aks delete` removes its objects. Created at 1.34 without
// --enable-oidc-issuer, it has an issuer all the same, as on AKS, whose
// key signs service-account tokens and outlives rotate-certs.
func TestKubectlClusterLifecycle(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	alice := in.createUser(t, "--name", "alice@aksid.local")
	admins := in.adminGroup(t, alice.UPN)
	k := newKubeShell(t, in)
	k.ok(`az login --service-principal -u "$AKSID_ADMIN_CLIENT_ID" -p "$AKSID_ADMIN_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
az group create -n kube-rg -l eastus -o none
az aks create -g kube-rg -n life --node-count 2 --generate-ssh-keys -o none
az aks get-credentials -g kube-rg -n life --admin
kubectl create namespace keep`)
	k.expectNodes(2)
	k.ok(`az aks scale -g kube-rg -n life --node-count 4 -o none`)
	eventually(t, "four nodes after az aks scale", 20*time.Second, func() (bool, string) {
		out := k.ok("kubectl get nodes -o name")
		return len(strings.Fields(out)) == 4, out
	})
	k.expectNodes(4)
	// A second pool (az aks nodepool): its nodes come and go with it.
	nodes := func(what string, want int) {
		t.Helper()
		eventually(t, what, 20*time.Second, func() (bool, string) {
			out := k.ok("kubectl get nodes -o name")
			return len(strings.Fields(out)) == want && (want == 4) != strings.Contains(out, "node/aks-pool2-"), out
		})
	}
	k.ok(`az aks nodepool add -g kube-rg --cluster-name life -n pool2 --node-count 2 -o none`)
	nodes("six nodes after az aks nodepool add", 6)
	if got := k.ok(`az aks nodepool list -g kube-rg --cluster-name life --query "[].[name,mode,to_string(count)]" -o tsv`); got != "nodepool1\tSystem\t4\npool2\tUser\t2" {
		t.Fatalf("az aks nodepool list: %q", got)
	}
	k.ok(`az aks nodepool scale -g kube-rg --cluster-name life -n pool2 --node-count 1 -o none`)
	nodes("five nodes after az aks nodepool scale", 5)
	// A node image upgrade replaces the pool's node.
	first := k.ok(`kubectl get nodes -o name | grep aks-pool2-`)
	k.ok(`az aks nodepool upgrade -g kube-rg --cluster-name life -n pool2 --node-image-only -o none`)
	eventually(t, "pool2's node replaced after its node image upgrade", 20*time.Second, func() (bool, string) {
		out := k.ok("kubectl get nodes -o name")
		return len(strings.Fields(out)) == 5 && !strings.Contains(out, first) && strings.Contains(out, "node/aks-pool2-"), out
	})
	// az aks nodepool stop takes the pool's nodes away, start brings them
	// back; the system pool does not stop.
	k.ok(`az aks nodepool stop -g kube-rg --cluster-name life -n pool2 -o none`)
	nodes("four nodes after az aks nodepool stop", 4)
	k.fails("cannot be stopped", `az aks nodepool stop -g kube-rg --cluster-name life -n nodepool1`)
	k.ok(`az aks nodepool start -g kube-rg --cluster-name life -n pool2 -o none`)
	nodes("five nodes after az aks nodepool start", 5)
	k.fails("There has to be at least one system agent pool", `az aks nodepool delete -g kube-rg --cluster-name life -n nodepool1`)
	k.ok(`az aks nodepool delete -g kube-rg --cluster-name life -n pool2 -o none`)
	nodes("four nodes after az aks nodepool delete", 4)

	// Managed Entra turned on later: the running API server restarts with
	// Guard's webhook, and the admin group is bound.
	k.ok(`az aks update -g kube-rg -n life --enable-aad --aad-admin-group-object-ids ` + admins + ` -o none
az aks get-credentials -g kube-rg -n life -f "$KUBECONFIG.user"
KUBECONFIG="$KUBECONFIG.user" kubelogin convert-kubeconfig -l ropc`)
	eventually(t, "an admin-group member signs in after az aks update --enable-aad", 30*time.Second, func() (bool, string) {
		out, stderr, err := k.run(`KUBECONFIG="$KUBECONFIG.user" kubectl get namespace keep -o name`, ropc(alice)...)
		return err == nil && strings.TrimSpace(out) == "namespace/keep", stderr
	})

	if got := k.ok(`az aks show -g kube-rg -n life --query "[oidcIssuerProfile.enabled, starts_with(oidcIssuerProfile.issuerUrl, 'https://eastus.oic.prod-aks.azure.com/')]" -o tsv`); got != "true\ntrue" {
		t.Fatalf("a 1.34 cluster created without --enable-oidc-issuer: issuer enabled, URL from the region: %q", got)
	}
	// A service account's token outlives its server (a stop and a start),
	// as the cluster keeps its signing key, and rotate-certs below.
	saToken := filepath.Join(t.TempDir(), "sa-token")
	k.ok(`kubectl create token default -n keep --duration 48h > ` + saToken)
	saUser := func() (string, string, error) {
		out, stderr, err := k.run(`kubectl config set-credentials sa --token="$(cat ` + saToken + `)" >/dev/null
kubectl auth whoami --user sa -o jsonpath='{.status.userInfo.username}'`)
		return strings.TrimSpace(out), stderr, err
	}
	const saName = "system:serviceaccount:keep:default"

	k.ok(`az aks stop -g kube-rg -n life`)
	k.fails("stopped", "kubectl get namespace keep")
	k.fails("Power State(Stopped), rotating cluster certificates cannot be performed", `az aks rotate-certs -g kube-rg -n life --yes`)
	// A stopped cluster only starts or goes (AKS's stop/start doc).
	k.fails("Power State(Stopped), updating managed cluster cannot be performed", `az aks scale -g kube-rg -n life --node-count 2`)
	k.ok(`az aks start -g kube-rg -n life`)
	k.ok("kubectl get namespace keep")
	k.expectNodes(4)
	if user, stderr, err := saUser(); err != nil || user != saName {
		t.Fatalf("the service account's token after a stop and a start: %q %v\n%s", user, err, stderr)
	}

	// az aks rotate-certs, as AKS's certificate rotation doc runs it: the
	// kubeconfig from before fails at TLS, and its admin certificate is
	// refused even with the server unchecked; fetched again, kubectl works
	// with the cluster's objects kept, on new nodes, and every namespace's
	// kube-root-ca.crt holds the new CA.
	nodesBefore := k.ok("kubectl get nodes -o name")
	k.ok(`cp "$KUBECONFIG" "$KUBECONFIG.before"
az aks rotate-certs -g kube-rg -n life --yes`)
	k.fails("certificate signed by unknown authority", `KUBECONFIG="$KUBECONFIG.before" kubectl get nodes`)
	k.fails("You must be logged in to the server", `export KUBECONFIG="$KUBECONFIG.before"
kubectl config unset clusters.life.certificate-authority-data >/dev/null
kubectl get nodes --insecure-skip-tls-verify`)
	k.ok(`az aks get-credentials -g kube-rg -n life --admin --overwrite-existing`)
	k.ok("kubectl get namespace keep")
	if user, stderr, err := saUser(); err != nil || user != saName {
		t.Fatalf("the issuer-signed token from before az aks rotate-certs: %q %v\n%s", user, err, stderr)
	}
	k.expectNodes(4)
	if after := k.ok("kubectl get nodes -o name"); strings.Contains(after, strings.Fields(nodesBefore)[0]) {
		t.Fatalf("nodes after az aks rotate-certs: %s; before: %s", after, nodesBefore)
	}
	eventually(t, "kube-root-ca.crt holding the rotated CA", 30*time.Second, func() (bool, string) {
		out := k.ok(`[ "$(kubectl get configmap kube-root-ca.crt -n keep -o jsonpath='{.data.ca\.crt}')" = "$(kubectl config view --raw -o jsonpath='{.clusters[?(@.name=="life")].cluster.certificate-authority-data}' | base64 -d)" ] && echo same || echo differs`)
		return out == "same", out
	})

	in.stop()
	in = start(t, in.dataDir)
	k.in = in
	k.ok("kubectl get namespace keep")

	clusters := filepath.Join(in.dataDir, "kube", "clusters")
	if ents, _ := os.ReadDir(clusters); len(ents) != 1 {
		t.Fatalf("cluster directories before delete: %d", len(ents))
	}
	k.ok(`az aks delete -g kube-rg -n life --yes`)
	eventually(t, "the cluster's API server data removed", 30*time.Second, func() (bool, string) {
		ents, _ := os.ReadDir(clusters)
		return len(ents) == 0, ""
	})
	k.fails("no managed cluster", "kubectl get namespace keep")
}
