package e2e

import (
	"strings"
	"testing"
	"time"
)

// eventually runs check until it is true or a while has passed; the
// service controller retries a failed load balancer after 5 s, doubling.
func eventually(t *testing.T, what string, within time.Duration, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, last := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, within, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestKubectlLoadBalancerAsClusterIdentity: `kubectl expose --type
// LoadBalancer` on a cluster whose service principal has no grant on its
// custom subnet's group gets cloud-provider-azure's AuthorizationFailed
// event; Network Contributor there gives the Service its IP; a year on
// aksid's clock later a new Service gets the expired-secret event, and
// `az aks update-credentials` with a new secret mends it.
func TestKubectlLoadBalancerAsClusterIdentity(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	k := newKubeShell(t, in)
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	vnet := "/subscriptions/" + sub + "/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/myVnet"
	sp := strings.Fields(k.ok(`az login --service-principal -u "$AKSID_ADMIN_CLIENT_ID" -p "$AKSID_ADMIN_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
az group create -n net-rg -l westus2 -o none
az group create -n myResourceGroup -l westus2 -o none
az provider register -n Microsoft.Network --wait
az provider register -n Microsoft.ContainerService --wait
az rest --method put --url "` + vnet + `?api-version=2022-01-01" --body '{"location":"westus2","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"mySubnet","properties":{"addressPrefix":"10.0.0.0/24"}}]}}' -o none
az ad sp create-for-rbac --name myAKSClusterServicePrincipal --query '[appId,password]' -o tsv`))
	if len(sp) != 2 {
		t.Fatalf("create-for-rbac: %q", sp)
	}
	k.ok(`az aks create -g myResourceGroup -n myAKSCluster --service-principal ` + sp[0] + ` --client-secret '` + sp[1] + `' --vnet-subnet-id ` + vnet + `/subnets/mySubnet --skip-subnet-role-assignment --generate-ssh-keys -o none
az aks get-credentials -g myResourceGroup -n myAKSCluster --admin
kubectl create deployment web --image mcr.microsoft.com/azuredocs/aks-helloworld:v1
kubectl expose deployment web --port 80 --type LoadBalancer`)
	events := func(svc string) string {
		return k.ok(`kubectl get events --field-selector involvedObject.name=` + svc + ` -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}'`)
	}
	ingress := func(svc string) string {
		return k.ok(`kubectl get service ` + svc + ` -o jsonpath='{.status.loadBalancer.ingress[0].ip}'`)
	}
	eventually(t, "AuthorizationFailed event without a grant on the subnet", 30*time.Second, func() (bool, string) {
		ev := events("web")
		return strings.Contains(ev, "SyncLoadBalancerFailed: Error syncing load balancer: failed to ensure load balancer:") &&
			strings.Contains(ev, "AuthorizationFailed"), ev
	})
	if ip := ingress("web"); ip != "" {
		t.Fatalf("a denied Service got an IP: %s", ip)
	}

	spOID := spObjectIDOf(t, k, sp[0])
	k.assignRole("/subscriptions/"+sub+"/resourceGroups/net-rg", networkContributorRole, spOID, "ServicePrincipal")
	var ip string
	eventually(t, "an ingress IP with Network Contributor on the subnet's group", 90*time.Second, func() (bool, string) {
		ip = ingress("web")
		return ip != "", events("web")
	})
	// The IP is the public IP the identity made in the node resource group
	// for this Service (az network crashes in Debian's az 2.45: az resource).
	pipIP := k.ok(`pip=$(az resource list -g "$(az aks show -g myResourceGroup -n myAKSCluster --query nodeResourceGroup -o tsv)" --resource-type Microsoft.Network/publicIPAddresses --query "[?tags.\"k8s-azure-service\"=='default/web'].id" -o tsv)
az rest --method get --url "$pip?api-version=2022-07-01" --query properties.ipAddress -o tsv`)
	if pipIP != ip {
		t.Fatalf("Service ingress %q, the public IP tagged for it %q", ip, pipIP)
	}
	if ev := events("web"); !strings.Contains(ev, "EnsuredLoadBalancer") {
		t.Fatalf("events after success: %s", ev)
	}

	in.aksid(t, "clock", "advance", "366d")
	k.ok(`kubectl expose deployment web --name web2 --port 8080 --target-port 80 --type LoadBalancer`)
	eventually(t, "the expired-secret event a year later", 30*time.Second, func() (bool, string) {
		ev := events("web2")
		return strings.Contains(ev, "SyncLoadBalancerFailed") && strings.Contains(ev, "AADSTS7000222"), ev
	})
	k.ok(`secret=$(az ad app credential reset --id ` + sp[0] + ` --query password -o tsv)
az aks update-credentials -g myResourceGroup -n myAKSCluster --reset-service-principal --service-principal ` + sp[0] + ` --client-secret "$secret" -o none`)
	eventually(t, "an ingress IP after update-credentials", 90*time.Second, func() (bool, string) {
		return ingress("web2") != "", events("web2")
	})
}
