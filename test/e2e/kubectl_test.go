package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// AKS's built-in roles for Kubernetes data actions (rbac/builtin_roles.json).
const (
	aksRBACReader       = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
	aksRBACClusterAdmin = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
)

// nodeName is how AKS names a VMSS pool's nodes.
var nodeName = regexp.MustCompile(`^node/aks-nodepool1-\d{8}-vmss[0-9a-z]{6}$`)

// kubeShell runs the docs' commands in a shell set up by `aksid env`, with
// one kubeconfig file for the whole test.
type kubeShell struct {
	t  *testing.T
	in *instance
	kc string
	// direct is custom-cloud mode: no proxy, `aksid env --direct`.
	direct bool
}

func newKubeShell(t *testing.T, in *instance) *kubeShell {
	return &kubeShell{t: t, in: in, kc: filepath.Join(t.TempDir(), "config")}
}

func (k *kubeShell) run(script string, env ...string) (string, string, error) {
	k.t.Helper()
	if k.direct {
		script = "unset HTTPS_PROXY HTTP_PROXY NO_PROXY https_proxy http_proxy no_proxy\n" + `eval "$(aksid env --direct)"` + "\n" + script
	}
	return k.in.inAksidEnv(k.t, "export KUBECONFIG="+k.kc+"\n"+script, env...)
}

func (k *kubeShell) ok(script string, env ...string) string {
	k.t.Helper()
	out, stderr, err := k.run("set -e\n"+script, env...)
	if err != nil {
		k.t.Fatalf("%s\n: %v\nstdout: %s\nstderr: %s", script, err, out, stderr)
	}
	return strings.TrimSpace(out)
}

// fails runs script expecting it to fail with want in its stderr.
func (k *kubeShell) fails(want, script string, env ...string) {
	k.t.Helper()
	out, stderr, err := k.run(script, env...)
	if err == nil || !strings.Contains(stderr+out, want) {
		k.t.Fatalf("%s\n: want a failure with %q; err %v\nstdout: %s\nstderr: %s", script, want, err, out, stderr)
	}
}

// assignRole grants role at scope through `az rest`: az 2.45's own role
// assignment command crashes in the client (compat/az.md §1).
func (k *kubeShell) assignRole(scope, role, principal, typ string) {
	k.t.Helper()
	body := fmt.Sprintf(`{"properties":{"roleDefinitionId":"/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"%s","principalType":"%s"}}`,
		k.in.env["AKSID_SUBSCRIPTION_ID"], role, principal, typ)
	k.ok(`az rest --method put --url "https://management.azure.com` + scope + `/providers/Microsoft.Authorization/roleAssignments/$(cat /proc/sys/kernel/random/uuid)?api-version=2022-04-01" --body '` + body + `' -o none`)
}

// whoami is `kubectl auth whoami`'s user.
type whoami struct {
	Status struct {
		UserInfo struct {
			Username string
			Groups   []string
			Extra    map[string][]string
		}
	}
}

func (k *kubeShell) whoami(env ...string) whoami {
	k.t.Helper()
	var w whoami
	out := k.ok("kubectl auth whoami -o json", env...)
	if err := json.Unmarshal([]byte(out), &w); err != nil {
		k.t.Fatalf("whoami %s: %v", out, err)
	}
	return w
}

// expectNodes checks `kubectl get nodes` lists n Ready nodes named as AKS names them.
func (k *kubeShell) expectNodes(n int, env ...string) {
	k.t.Helper()
	out := k.ok("kubectl get nodes -o name", env...)
	names := strings.Fields(out)
	if len(names) != n {
		k.t.Fatalf("kubectl get nodes: %q, want %d nodes", out, n)
	}
	for _, name := range names {
		if !nodeName.MatchString(name) {
			k.t.Fatalf("node %q is not named as AKS names nodes", name)
		}
	}
	ready := k.ok(`kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}'`, env...)
	if strings.Count(ready, "True") != n {
		k.t.Fatalf("nodes' Ready conditions %q", ready)
	}
}

// canI is `kubectl auth can-i`'s answer.
func (k *kubeShell) canI(args string, env ...string) string {
	k.t.Helper()
	out, stderr, _ := k.run("kubectl auth can-i "+args, env...)
	// A denial may carry the authorizer's reason: "no - …".
	out, _, _ = strings.Cut(strings.TrimSpace(out), " ")
	if out != "yes" && out != "no" {
		k.t.Fatalf("kubectl auth can-i %s: %q %s", args, out, stderr)
	}
	return out
}

func ropc(u createdUser) []string {
	return []string{"AAD_USER_PRINCIPAL_NAME=" + u.UPN, "AAD_USER_PRINCIPAL_PASSWORD=" + u.Password}
}

// TestKubectlEntraClusterThroughProxy is the AKS docs' sign-in recipe to
// its last line, in a shell set up by `aksid env`, with AKS's kubeconfig
// unchanged but for kubelogin's conversion (of the exec form, and of the
// azure form --format azure asks for): a cluster with managed Entra,
// an admin group and Azure RBAC; kubelogin's ropc, spn, azurecli, msi and
// workloadidentity modes; then the real kubectl against the cluster's own
// kube-apiserver, which asks aksid's Guard and Azure RBAC webhooks.
func TestKubectlEntraClusterThroughProxy(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	alice := in.createUser(t, "--name", "alice@aksid.local")
	bob := in.createUser(t, "--name", "bob@aksid.local")
	admins := in.adminGroup(t, alice.UPN)
	sp := in.createSP("kubectl-spn")
	k := newKubeShell(t, in)

	k.ok(`az login --service-principal -u "$AKSID_ADMIN_CLIENT_ID" -p "$AKSID_ADMIN_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
az group create -n kube-rg -l eastus -o none
az aks create -g kube-rg -n entra --enable-aad --aad-admin-group-object-ids ` + admins + ` --enable-azure-rbac --enable-oidc-issuer --generate-ssh-keys -o none
az aks get-credentials -g kube-rg -n entra
kubelogin convert-kubeconfig -l ropc`)
	clusterID := k.ok(`az aks show -g kube-rg -n entra --query id -o tsv`)

	// An admin-group member: cluster admin through Kubernetes RBAC.
	k.expectNodes(3, ropc(alice)...)
	w := k.whoami(ropc(alice)...)
	if w.Status.UserInfo.Username != alice.UPN || !containsFold(w.Status.UserInfo.Groups, admins) {
		t.Fatalf("alice is %+v, want %s in group %s", w.Status.UserInfo, alice.UPN, admins)
	}
	if got := k.canI("'*' '*' --all-namespaces", ropc(alice)...); got != "yes" {
		t.Fatalf("admin-group member can-i * *: %s", got)
	}
	// The azure auth-provider form, which AKS still gives when asked
	// (--format azure), signs in the same once kubelogin converts it; a
	// format AKS does not know is refused.
	k.ok(`az aks get-credentials -g kube-rg -n entra --format azure -f "$KUBECONFIG.azure"
grep -q 'name: azure' "$KUBECONFIG.azure"
KUBECONFIG="$KUBECONFIG.azure" kubelogin convert-kubeconfig -l ropc`)
	if out := k.ok(`KUBECONFIG="$KUBECONFIG.azure" kubectl get nodes -o name | wc -l`, ropc(alice)...); out != "3" {
		t.Fatalf("nodes through the azure form: %s", out)
	}
	k.fails("The value of parameter format 'yaml' is invalid", `az rest --method post --url "`+clusterID+`/listClusterUserCredential?api-version=2022-11-01&format=yaml"`)

	// A user with no role: Azure RBAC and Kubernetes RBAC both say no.
	if got := k.canI("get pods -n team", ropc(bob)...); got != "no" {
		t.Fatalf("bob without a role can-i get pods: %s", got)
	}
	// In the words of AKS's docs (Guard's verdict).
	k.fails(`pods is forbidden: User "`+bob.UPN+`" cannot list resource "pods" in API group "" in the namespace "team": User does not have access to the resource in Azure. Update role assignment to allow access.`,
		"kubectl get pods -n team", ropc(bob)...)
	// AKS RBAC Reader on one namespace: there and only there, read only.
	k.assignRole(clusterID+"/namespaces/team", aksRBACReader, bob.ID, "User")
	for args, want := range map[string]string{"get pods -n team": "yes", "list deployments.apps -n team": "yes",
		"get pods -n kube-system": "no", "create deployments.apps -n team": "no", "get secrets -n team": "no"} {
		if got := k.canI(args, ropc(bob)...); got != want {
			t.Fatalf("bob, AKS RBAC Reader on namespace team, can-i %s: %s, want %s", args, got, want)
		}
	}
	k.ok("kubectl get pods -n team", ropc(bob)...)

	// spn: a service principal holding AKS RBAC Cluster Admin on the cluster.
	spID := spObjectIDOf(t, k, sp.AppID)
	k.assignRole(clusterID, aksRBACClusterAdmin, spID, "ServicePrincipal")
	spEnv := []string{"AAD_SERVICE_PRINCIPAL_CLIENT_ID=" + sp.AppID, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=" + sp.Password}
	k.ok("kubelogin convert-kubeconfig -l spn")
	k.expectNodes(3, spEnv...)
	if w := k.whoami(spEnv...); w.Status.UserInfo.Username != spID {
		t.Fatalf("spn user %+v, want the object ID %s", w.Status.UserInfo, spID)
	}
	// PoP: the signed request names the cluster's resource ID.
	k.ok(`kubelogin convert-kubeconfig -l spn --pop-enabled --pop-claims "u=` + clusterID + `"`)
	k.expectNodes(3, spEnv...)

	// workloadidentity: a service account token from this cluster's own
	// API server, federated to a user-assigned identity.
	k.ok("kubelogin convert-kubeconfig -l ropc\nkubectl create serviceaccount wi-sa -n default", ropc(alice)...)
	tokenFile := filepath.Join(t.TempDir(), "sa-token")
	k.ok(`kubectl create token wi-sa -n default --audience api://AzureADTokenExchange > `+tokenFile, ropc(alice)...)
	wi := k.ok(`az identity create -g kube-rg -n wi-id -o none
az identity federated-credential create -g kube-rg --identity-name wi-id -n wi-fic --issuer "$(az aks show -g kube-rg -n entra --query oidcIssuerProfile.issuerUrl -o tsv)" --subject system:serviceaccount:default:wi-sa --audiences api://AzureADTokenExchange -o none
az identity show -g kube-rg -n wi-id --query '[clientId,principalId]' -o tsv`)
	ids := strings.Fields(wi)
	if len(ids) != 2 {
		t.Fatalf("identity ids %q", wi)
	}
	k.assignRole(clusterID, aksRBACClusterAdmin, ids[1], "ServicePrincipal")
	podEnv := workloadIdentityPod(t, k, ids[0], ropc(alice))
	k.ok("kubelogin convert-kubeconfig -l workloadidentity")
	// The pod's own settings sign in, its token file standing for the
	// projected volume no kubelet writes here.
	wiEnv := []string{"AZURE_CLIENT_ID=" + podEnv["AZURE_CLIENT_ID"], "AZURE_FEDERATED_TOKEN_FILE=" + tokenFile,
		"AZURE_AUTHORITY_HOST=" + podEnv["AZURE_AUTHORITY_HOST"]}
	k.expectNodes(3, wiEnv...)
	if w := k.whoami(wiEnv...); w.Status.UserInfo.Username != ids[1] {
		t.Fatalf("workload identity user %+v, want %s", w.Status.UserInfo, ids[1])
	}

	// msi: the default host's identity through IMDS on the plain proxy port.
	vm := k.ok(`aksid host list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["systemAssigned"]["principalId"])'`)
	k.assignRole(clusterID, aksRBACClusterAdmin, vm, "ServicePrincipal")
	k.ok("kubelogin convert-kubeconfig -l msi")
	k.expectNodes(3)

	// azurecli: kubelogin asks the az signed in as the admin-group member.
	k.ok(`az login -u ` + alice.UPN + ` -p '` + alice.Password + `' --allow-no-subscriptions -o none
kubelogin convert-kubeconfig -l azurecli`)
	if w := k.whoami(); w.Status.UserInfo.Username != alice.UPN {
		t.Fatalf("azurecli user %+v", w.Status.UserInfo)
	}
	k.expectNodes(3)
}

// workloadIdentityPod turns workload identity on as az 2.45 can (it has
// no --enable-workload-identity) and returns the environment AKS's
// webhook gives a labelled pod of the service account wi-sa, which it
// annotates with clientID; with the feature off again, a new pod gets
// nothing.
func workloadIdentityPod(t *testing.T, k *kubeShell, clientID string, env []string) map[string]string {
	t.Helper()
	const cfg = "mutatingwebhookconfiguration azure-wi-webhook-mutating-webhook-configuration"
	turn := func(on bool) {
		// The webhook's registration follows ARM's change in the background.
		wait := "until kubectl get " + cfg + " >/dev/null 2>&1"
		if !on {
			wait = "while kubectl get " + cfg + " >/dev/null 2>&1"
		}
		k.ok(fmt.Sprintf(`az resource update -g kube-rg -n entra --resource-type Microsoft.ContainerService/managedClusters --set properties.securityProfile.workloadIdentity.enabled=%t -o none
n=0; %s; do n=$((n+1)); [ $n -lt 100 ] || exit 1; sleep 0.1; done`, on, wait), env...)
	}
	turn(true)
	k.ok(`kubectl annotate serviceaccount wi-sa -n default azure.workload.identity/client-id=`+clientID+`
kubectl run wi-pod -n default --image=busybox --labels=azure.workload.identity/use=true --overrides='{"spec":{"serviceAccountName":"wi-sa"}}'`, env...)
	var pod struct {
		Spec struct {
			Containers []struct {
				Env          []struct{ Name, Value string }
				VolumeMounts []struct{ Name, MountPath string }
			}
			Volumes []struct {
				Name      string
				Projected struct {
					Sources []struct {
						ServiceAccountToken *struct {
							Audience          string
							ExpirationSeconds int
							Path              string
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(k.ok("kubectl get pod wi-pod -n default -o json", env...)), &pod); err != nil || len(pod.Spec.Containers) != 1 {
		t.Fatalf("pod: %v", err)
	}
	tenantID := k.ok(`printf %s "$AZURE_TENANT_ID"`)
	got := map[string]string{}
	for _, e := range pod.Spec.Containers[0].Env {
		got[e.Name] = e.Value
	}
	if got["AZURE_CLIENT_ID"] != clientID || got["AZURE_TENANT_ID"] != tenantID || got["AZURE_AUTHORITY_HOST"] != "https://login.microsoftonline.com/" ||
		got["AZURE_FEDERATED_TOKEN_FILE"] != "/var/run/secrets/azure/tokens/azure-identity-token" {
		t.Fatalf("workload identity pod's environment %v", got)
	}
	projected := false
	for _, v := range pod.Spec.Volumes {
		for _, src := range v.Projected.Sources {
			if tok := src.ServiceAccountToken; v.Name == "azure-identity-token" && tok != nil &&
				tok.Audience == "api://AzureADTokenExchange" && tok.ExpirationSeconds == 3600 && tok.Path == "azure-identity-token" {
				projected = true
			}
		}
	}
	if !projected {
		t.Fatalf("no azure-identity-token volume: %+v", pod.Spec.Volumes)
	}
	k.fails("token expiration 60 not valid", `kubectl run wi-short -n default --image=busybox --labels=azure.workload.identity/use=true --annotations=azure.workload.identity/service-account-token-expiration=60 --overrides='{"spec":{"serviceAccountName":"wi-sa"}}'`, env...)
	turn(false)
	k.ok(`kubectl run wi-off -n default --image=busybox --labels=azure.workload.identity/use=true --overrides='{"spec":{"serviceAccountName":"wi-sa"}}'`, env...)
	if out := k.ok(`kubectl get pod wi-off -n default -o jsonpath='{.spec.containers[0].env}'`, env...); out != "" {
		t.Fatalf("with workload identity off a pod still got %s", out)
	}
	return got
}

func spObjectIDOf(t *testing.T, k *kubeShell, appID string) string {
	t.Helper()
	return k.ok(`az ad sp show --id ` + appID + ` --query id -o tsv`)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// TestKubectlOverageAndLocalAccounts: a user in more than 200 groups,
// whose token names no groups but where to find them, is an admin-group
// member through Guard's Graph lookup; a cluster without Entra takes the
// admin client certificate of `get-credentials --admin`, and a cluster
// with local accounts disabled refuses to hand one out.
func TestKubectlOverageAndLocalAccounts(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	olga := in.createUser(t, "--name", "olga@aksid.local")
	groups := in.joinNewGroups(t, olga.ID, 201)
	admins := groups[150]
	k := newKubeShell(t, in)
	k.ok(`az login --service-principal -u "$AKSID_ADMIN_CLIENT_ID" -p "$AKSID_ADMIN_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
az group create -n kube-rg -l eastus -o none
az aks create -g kube-rg -n entra --enable-aad --aad-admin-group-object-ids ` + admins + ` --disable-local-accounts --generate-ssh-keys -o none
az aks get-credentials -g kube-rg -n entra
kubelogin convert-kubeconfig -l ropc`)
	w := k.whoami(ropc(olga)...)
	if w.Status.UserInfo.Username != olga.UPN || len(w.Status.UserInfo.Groups) < 201 || !containsFold(w.Status.UserInfo.Groups, admins) {
		t.Fatalf("overage user: %s with %d groups, want %s in 201 groups with %s", w.Status.UserInfo.Username, len(w.Status.UserInfo.Groups), olga.UPN, admins)
	}
	if got := k.canI("'*' '*' --all-namespaces", ropc(olga)...); got != "yes" {
		t.Fatalf("overage admin-group member can-i * *: %s", got)
	}
	k.expectNodes(3, ropc(olga)...)
	// The AKS RBAC doc's kubectl run in a new namespace needs its default
	// service account; the pod stays Pending, and kubectl describe says
	// why; deleting the namespace ends, rather than staying Terminating.
	k.ok(`kubectl create namespace dev
kubectl run nginx-dev --image=mcr.microsoft.com/oss/nginx/nginx:1.15.5-alpine --namespace dev
kubectl get pod nginx-dev --namespace dev -o name
for i in $(seq 100); do kubectl describe pod nginx-dev --namespace dev | grep -q "FailedScheduling" && break; sleep 0.1; done
kubectl describe pod nginx-dev --namespace dev | grep -E "Warning +FailedScheduling .* aksid's clusters run no pods"
test "$(kubectl get pod nginx-dev --namespace dev -o jsonpath='{.status.phase} {.status.conditions[0].reason}')" = "Pending Unschedulable"
kubectl delete namespace dev --timeout=30s
! kubectl get namespace dev 2>/dev/null`, ropc(olga)...)
	k.fails("Getting static credential is not allowed because this cluster is set to disable local accounts",
		`az aks get-credentials -g kube-rg -n entra --admin`)

	k.ok(`az aks create -g kube-rg -n plain --node-count 2 --generate-ssh-keys -o none
az aks get-credentials -g kube-rg -n plain --admin --overwrite-existing`)
	k.expectNodes(2)
	if w := k.whoami(); w.Status.UserInfo.Username != "masterclient" || !containsFold(w.Status.UserInfo.Groups, "system:masters") {
		t.Fatalf("admin certificate user %+v", w.Status.UserInfo)
	}
}

// TestKubectlLegacyEntraCluster: a cluster with the legacy Entra profile
// (its own server and client applications) hands out the azure
// auth-provider kubeconfig; converted by kubelogin, the user's token
// (refused until the client has consent, as the doc grants it) is
// for the legacy server application, which Guard accepts; Kubernetes RBAC
// decides, with bindings made through the admin certificate.
func TestKubectlLegacyEntraCluster(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	alice := in.createUser(t, "--name", "alice@aksid.local")
	k := newKubeShell(t, in)
	apps := k.ok(`az login --service-principal -u "$AKSID_ADMIN_CLIENT_ID" -p "$AKSID_ADMIN_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
server=$(az ad app create --display-name legacy-server --identifier-uris api://legacy-server --query appId -o tsv)
az ad sp create --id "$server" -o none
client=$(az ad app create --display-name legacy-client --is-fallback-public-client true --query appId -o tsv)
az ad sp create --id "$client" -o none
echo "$server $client"`)
	ids := strings.Fields(apps)
	if len(ids) != 2 {
		t.Fatalf("apps %q", apps)
	}
	k.ok(`az group create -n kube-rg -l eastus -o none
az provider register -n Microsoft.ContainerService --wait
az rest --method put --url "https://management.azure.com/subscriptions/$AKSID_SUBSCRIPTION_ID/resourceGroups/kube-rg/providers/Microsoft.ContainerService/managedClusters/legacy?api-version=2022-11-01" --body '{"location":"eastus","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"legacy","enableRBAC":true,"aadProfile":{"serverAppID":"` + ids[0] + `","clientAppID":"` + ids[1] + `","serverAppSecret":"server-secret"}}}' -o none
az aks get-credentials -g kube-rg -n legacy
az aks get-credentials -g kube-rg -n legacy --admin -f "$KUBECONFIG.admin"
kubelogin convert-kubeconfig -l ropc`)
	// As in Entra, the client needs consent on the server application
	// first; the legacy doc grants it.
	k.fails("AADSTS65001", "kubectl get nodes", ropc(alice)...)
	k.ok(`az ad app permission grant --id "` + ids[1] + `" --api "` + ids[0] + `" --scope user_impersonation -o none`)
	w := k.whoami(ropc(alice)...)
	if w.Status.UserInfo.Username != alice.UPN {
		t.Fatalf("legacy Entra user %+v, want %s", w.Status.UserInfo, alice.UPN)
	}
	k.fails("Forbidden", "kubectl get nodes", ropc(alice)...)
	k.ok(`kubectl --kubeconfig "$KUBECONFIG.admin" create clusterrolebinding alice-view --clusterrole view --user ` + alice.UPN + `
kubectl --kubeconfig "$KUBECONFIG.admin" create clusterrole node-reader --verb get,list --resource nodes
kubectl --kubeconfig "$KUBECONFIG.admin" create clusterrolebinding alice-nodes --clusterrole node-reader --user ` + alice.UPN)
	k.expectNodes(3, ropc(alice)...)
}

// adminGroup makes the group "aks-admins" with member in it and returns its object ID.
func (in *instance) adminGroup(t *testing.T, member string) string {
	t.Helper()
	var g struct{ ID string }
	if err := json.Unmarshal([]byte(in.aksid(t, "group", "create", "aks-admins")), &g); err != nil || g.ID == "" {
		t.Fatalf("group create: %v", err)
	}
	in.aksid(t, "group", "add-member", "aks-admins", member)
	return g.ID
}
