package cloudprovider

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/kubeplane"
	"github.com/aksid/aksid/internal/sts"
)

const (
	svcUID  = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	feName  = "a6f1c2d3e4a5b4c6d8e9f0a1b2c3d4e5" // "a" + the UID without dashes, 32 characters
	nodeNet = "/subscriptions/sub1/resourcegroups/mc_rg_c1_westus2/providers/microsoft.network/"
	aksLB   = `{"location":"westus2","sku":{"name":"Standard"},"tags":{"aks-managed-cluster-name":"c1"},"properties":{` +
		`"frontendIPConfigurations":[{"name":"outbound"}],"backendAddressPools":[{"name":"kubernetes"}],"outboundRules":[{"name":"aksOutboundRule"}]}}`
)

func webService() kubeplane.ServiceRef {
	return kubeplane.ServiceRef{Namespace: "default", Name: "web", UID: svcUID,
		Ports: []kubeplane.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, NodePort: 31080}, {Name: "dns", Protocol: "UDP", Port: 53, NodePort: 31053}}}
}

// allowService lets the identity do what EnsureService does in the node
// resource group, and answers for the public IP and AKS's load balancer.
func allowService(arm *fakeARM) {
	pip := nodeNet + "publicipaddresses/kubernetes-" + feName
	for _, k := range []string{"PUT " + pip, "GET " + pip, "DELETE " + pip, "GET " + nodeNet + "loadbalancers/kubernetes", "PUT " + nodeNet + "loadbalancers/kubernetes"} {
		arm.allowed[k] = true
	}
	arm.got["GET "+pip] = `{"properties":{"ipAddress":"20.1.2.3","publicIPAllocationMethod":"Static"}}`
	arm.got["GET "+nodeNet+"loadbalancers/kubernetes"] = aksLB
}

func TestEnsureServiceMakesIPAndFrontend(t *testing.T) {
	s, clusters, _, arm := setup(t, spCluster())
	allowService(arm)
	arm.allowed["GET "+strings.ToLower(testSubnetID)], arm.allowed["PUT "+strings.ToLower(testSubnetID)] = true, true
	ip, err := s.EnsureService(context.Background(), clusterID, webService())
	if err != nil || ip != "20.1.2.3" {
		t.Fatalf("EnsureService: %q %v", ip, err)
	}
	var pip struct {
		SKU        struct{ Name string }
		Tags       map[string]string
		Properties struct{ PublicIPAllocationMethod string }
	}
	if err := json.Unmarshal([]byte(arm.put["PUT "+nodeNet+"publicipaddresses/kubernetes-"+feName]), &pip); err != nil ||
		pip.SKU.Name != "Standard" || pip.Properties.PublicIPAllocationMethod != "Static" || pip.Tags["k8s-azure-service"] != "default/web" {
		t.Fatalf("public IP written: %v %s", err, arm.put["PUT "+nodeNet+"publicipaddresses/kubernetes-"+feName])
	}
	var lb struct {
		Tags       map[string]string
		Properties struct {
			Frontends []struct {
				Name       string
				Properties struct{ PublicIPAddress struct{ ID string } }
			} `json:"frontendIPConfigurations"`
			Rules []struct {
				Name       string
				Properties map[string]any
			} `json:"loadBalancingRules"`
			Probes   []struct{ Name string } `json:"probes"`
			Outbound []any                   `json:"outboundRules"`
		}
	}
	raw := arm.put["PUT "+nodeNet+"loadbalancers/kubernetes"]
	if err := json.Unmarshal([]byte(raw), &lb); err != nil {
		t.Fatal(err)
	}
	p := lb.Properties
	if len(p.Frontends) != 2 || p.Frontends[0].Name != feName || !strings.HasSuffix(p.Frontends[0].Properties.PublicIPAddress.ID, "/publicIPAddresses/kubernetes-"+feName) ||
		p.Frontends[1].Name != "outbound" || len(p.Outbound) != 1 || lb.Tags["aks-managed-cluster-name"] != "c1" {
		t.Fatalf("load balancer keeps AKS's parts and gains the frontend: %s", raw)
	}
	if len(p.Rules) != 2 || p.Rules[0].Name != feName+"-TCP-80" || p.Rules[1].Name != feName+"-UDP-53" || p.Rules[1].Properties["protocol"] != "Udp" ||
		p.Rules[0].Properties["frontendPort"] != 80.0 || len(p.Probes) != 2 || p.Probes[0].Name != feName+"-TCP-80" {
		t.Fatalf("rules and probes: %s", raw)
	}
	if len(clusters.events) != 1 || clusters.events[0].Type != "Normal" || clusters.events[0].Reason != "EnsuredLoadBalancer" {
		t.Fatalf("events: %+v", clusters.events)
	}
	if _, err := s.EnsureService(context.Background(), clusterID, webService()); err != nil || len(clusters.events) != 1 {
		t.Fatalf("again: %v; the same outcome records no second event: %+v", err, clusters.events)
	}

	// Deletion takes the Service's parts off and deletes its IP.
	arm.got["GET "+nodeNet+"loadbalancers/kubernetes"] = raw
	if err := s.DeleteService(context.Background(), clusterID, webService()); err != nil {
		t.Fatal(err)
	}
	after := arm.put["PUT "+nodeNet+"loadbalancers/kubernetes"]
	if strings.Contains(after, feName) || !strings.Contains(after, `"outbound"`) || !strings.Contains(after, "aksOutboundRule") {
		t.Fatalf("after DeleteService: %s", after)
	}
	if last := arm.seen[len(arm.seen)-1]; !strings.HasPrefix(last, "DELETE "+nodeNet+"publicipaddresses/kubernetes-"+feName) {
		t.Fatalf("last request %s", last)
	}
}

func TestEnsureServiceRefusals(t *testing.T) {
	s, clusters, tokens, arm := setup(t, spCluster())
	allowService(arm)
	delete(arm.allowed, "PUT "+nodeNet+"loadbalancers/kubernetes")
	arm.allowed["GET "+strings.ToLower(testSubnetID)] = true

	// The custom subnet comes first: read, but not written back without
	// Network Contributor there.
	_, err := s.EnsureService(context.Background(), clusterID, webService())
	want := `Retriable: false, RetryAfter: 0s, HTTPStatusCode: 403, RawError: {"error":{"code":"AuthorizationFailed","message":"no PUT on ` + testSubnetID + `"}}`
	if err == nil || err.Error() != want {
		t.Fatalf("without rights on the subnet: %v", err)
	}
	arm.allowed["PUT "+strings.ToLower(testSubnetID)] = true
	if _, err = s.EnsureService(context.Background(), clusterID, webService()); err == nil ||
		!strings.Contains(err.Error(), `"code":"AuthorizationFailed","message":"no PUT on /subscriptions/sub1/resourceGroups/MC_rg_c1_westus2/providers/Microsoft.Network/loadBalancers/kubernetes"`) {
		t.Fatalf("without write on the load balancer: %v", err)
	}
	arm.allowed["PUT "+nodeNet+"loadbalancers/kubernetes"] = true
	if ip, err := s.EnsureService(context.Background(), clusterID, webService()); err != nil || ip != "20.1.2.3" {
		t.Fatalf("with the roles: %q %v", ip, err)
	}
	if len(clusters.events) != 3 || clusters.events[0].Type != "Warning" || !strings.Contains(clusters.events[0].Message, "AuthorizationFailed") ||
		clusters.events[2].Reason != "EnsuredLoadBalancer" {
		t.Fatalf("events: %+v", clusters.events)
	}

	// An expired secret: Entra's refusal, and nothing reaches ARM.
	tokens.refuse = &sts.Error{OAuth: "invalid_client", Code: 7000222, Description: "The provided client secret keys for app 'app1' are expired."}
	n := len(arm.seen)
	_, err = s.EnsureService(context.Background(), clusterID, webService())
	if err == nil || !strings.HasPrefix(err.Error(), "Retriable: false, RetryAfter: 0s, HTTPStatusCode: 401, RawError: ") ||
		!strings.Contains(err.Error(), `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app 'app1' are expired."}`) {
		t.Fatalf("expired secret: %v", err)
	}
	if len(arm.seen) != n {
		t.Fatalf("requests without a token: %v", arm.seen[n:])
	}
	if _, err := s.EnsureService(context.Background(), clusterID+"x", webService()); err == nil {
		t.Fatal("a missing cluster is an error")
	}
	svc := webService()
	svc.Ports = []kubeplane.ServicePort{{Protocol: "SCTP", Port: 9}}
	tokens.refuse = nil
	if _, err := s.EnsureService(context.Background(), clusterID, svc); err == nil || !strings.Contains(err.Error(), "SCTP") {
		t.Fatalf("SCTP: %v", err)
	}
}

func TestServiceNameAsCloudProviderAzure(t *testing.T) {
	if got := serviceName(svcUID); got != feName || len(got) != 32 {
		t.Fatalf("serviceName = %q", got)
	}
}
