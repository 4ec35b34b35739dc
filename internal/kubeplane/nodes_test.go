package kubeplane

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/aks"
)

func nodeSpec() aks.KubeSpec {
	return aks.KubeSpec{ID: testClusterID, Name: "c1", Location: "westus2", NodeResourceGroup: "MC_rg_c1_westus2", Version: "1.34.4",
		Pools: []aks.Pool{
			{Name: "nodepool1", VMSize: "Standard_DS2_v2", Mode: "System", OSType: "Linux", OSSKU: "Ubuntu", Count: 3,
				Version: "1.34.4", ImageVersion: "AKSUbuntu-2204gen2containerd-202501.12.0"},
			{Name: "userpool", VMSize: "Standard_D4s_v3", Mode: "User", OSType: "Linux", Count: 1, Version: "1.34.4",
				ImageVersion: "AKSUbuntu-2204gen2containerd-202501.12.0", MaxPods: 30},
		}}
}

// fullNode is a Node as the API server returns it, for checks.
type fullNode struct {
	Metadata struct {
		Name            string            `json:"name"`
		ResourceVersion string            `json:"resourceVersion"`
		Labels          map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		ProviderID string `json:"providerID"`
		Taints     []any  `json:"taints"`
	} `json:"spec"`
	Status nodeStatus `json:"status"`
}

// listNodes returns the nodes by name.
func listNodes(t *testing.T, k Kube, selector string) map[string]fullNode {
	t.Helper()
	var list struct{ Items []fullNode }
	path := nodesPath
	if selector != "" {
		path += "?labelSelector=" + url.QueryEscape(selector)
	}
	if err := k.Get(context.Background(), path, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]fullNode{}
	for _, n := range list.Items {
		out[n.Metadata.Name] = n
	}
	return out
}

func names(nodes map[string]fullNode) string {
	var out []string
	for n := range nodes {
		out = append(out, n)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func syncList(t *testing.T, k Kube, spec aks.KubeSpec) map[string]fullNode {
	t.Helper()
	if err := syncNodes(context.Background(), k, spec); err != nil {
		t.Fatal(err)
	}
	return listNodes(t, k, poolLabel)
}

// TestNodesFollowPools: each pool's nodes are Ready Nodes named and
// labelled as AKS's; a scale keeps names, a roll replaces them, a second
// call writes nothing, and nodes aksid does not own stay.
func TestNodesFollowPools(t *testing.T) {
	k := testKube(t)
	ctx := context.Background()
	if err := k.Apply(ctx, nodesPath, "virtual-node", map[string]any{"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": "virtual-node", "labels": map[string]any{"type": "virtual-kubelet"}}}); err != nil {
		t.Fatal(err)
	}
	spec := nodeSpec()
	sys, user := scaleSetName(testClusterID, "nodepool1"), scaleSetName(testClusterID, "userpool")
	if len(sys) != len("aks-nodepool1-12345678-vmss") || sys == strings.Replace(user, "userpool", "nodepool1", 1) {
		t.Fatalf("scale-set names %q %q: 8 digits per cluster and pool", sys, user)
	}
	nodes := syncList(t, k, spec)
	if got, want := names(nodes), sys+"000000 "+sys+"000001 "+sys+"000002 "+user+"000000"; got != want {
		t.Fatalf("nodes %q, want %q", got, want)
	}
	n := nodes[sys+"000001"]
	wantLabels := map[string]string{"agentpool": "nodepool1", "kubernetes.azure.com/agentpool": "nodepool1",
		"kubernetes.azure.com/mode": "system", "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202501.12.0",
		"kubernetes.azure.com/os-sku": "Ubuntu", "kubernetes.azure.com/role": "agent", "kubernetes.azure.com/cluster": "MC_rg_c1_westus2",
		"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": sys + "000001", "kubernetes.io/role": "agent",
		"node-role.kubernetes.io/agent": "", "node.kubernetes.io/instance-type": "Standard_DS2_v2",
		"beta.kubernetes.io/instance-type": "Standard_DS2_v2", "topology.kubernetes.io/region": "westus2", "topology.kubernetes.io/zone": "0"}
	for key, v := range wantLabels {
		if got, ok := n.Metadata.Labels[key]; !ok || got != v {
			t.Errorf("label %s=%q, want %q", key, got, v)
		}
	}
	if want := "azure:///subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/mc_rg_c1_westus2/providers/Microsoft.Compute/virtualMachineScaleSets/" +
		sys + "/virtualMachines/1"; n.Spec.ProviderID != want {
		t.Errorf("providerID %q, want %q", n.Spec.ProviderID, want)
	}
	if len(n.Spec.Taints) != 0 {
		t.Errorf("taints %v: a Ready node keeps no not-ready taint", n.Spec.Taints)
	}
	ready := false
	for _, c := range n.Status.Conditions {
		switch c.Type {
		case "Ready":
			ready = c.Status == "True" && c.Reason == "KubeletReady" && c.Message == "kubelet is posting ready status" && c.LastHeartbeatTime != ""
		case "MemoryPressure", "DiskPressure", "PIDPressure":
			if c.Status != "False" {
				t.Errorf("%s is %s", c.Type, c.Status)
			}
		}
	}
	info := n.Status.NodeInfo
	if !ready || info.KubeletVersion != "v1.34.4" || info.OSImage != "Ubuntu 22.04.5 LTS" || info.ContainerRuntimeVersion != "containerd://1.7.27-1" ||
		info.KernelVersion != "5.15.0-1089-azure" || info.OperatingSystem != "linux" || info.Architecture != "amd64" {
		t.Errorf("status: %+v", n.Status)
	}
	if n.Status.Capacity["cpu"] != "2" || n.Status.Capacity["pods"] != "110" || n.Status.Allocatable["memory"] == "" ||
		len(n.Status.Addresses) != 2 || n.Status.Addresses[0] != (address{"InternalIP", "10.224.0.5"}) || n.Status.Addresses[1] != (address{"Hostname", sys + "000001"}) {
		t.Errorf("capacity and addresses: %+v %+v", n.Status.Capacity, n.Status.Addresses)
	}
	// A pool's maxPods is its nodes' pod capacity (nodepool1, as an older
	// aksid made it, has none and keeps the kubelet's 110).
	if u := nodes[user+"000000"]; u.Metadata.Labels["kubernetes.azure.com/mode"] != "user" || u.Status.Capacity["cpu"] != "4" ||
		u.Status.Capacity["pods"] != "30" || u.Status.Allocatable["pods"] != "30" {
		t.Errorf("user pool node: %v %v", u.Metadata.Labels, u.Status.Capacity)
	}

	// Idempotent: nothing is written again.
	again := syncList(t, k, spec)
	for name, n := range nodes {
		if again[name].Metadata.ResourceVersion != n.Metadata.ResourceVersion {
			t.Errorf("%s rewritten by an unchanged spec", name)
		}
	}

	// Scale up keeps the nodes there are and adds the next instances.
	spec.Pools[0].Count = 5
	up := syncList(t, k, spec)
	if got, want := names(up), sys+"000000 "+sys+"000001 "+sys+"000002 "+sys+"000003 "+sys+"000004 "+user+"000000"; got != want {
		t.Fatalf("after scale to 5: %q", got)
	}
	if up[sys+"000001"].Metadata.ResourceVersion != nodes[sys+"000001"].Metadata.ResourceVersion {
		t.Error("scale rewrote a kept node")
	}
	// Scale down drops the highest.
	spec.Pools[0].Count = 2
	if got := names(syncList(t, k, spec)); got != sys+"000000 "+sys+"000001 "+user+"000000" {
		t.Fatalf("after scale to 2: %q", got)
	}
	// A roll (update-credentials, node image upgrade) replaces the pool's
	// nodes with new instances.
	spec.Pools[0].Rolls++
	spec.Pools[0].ImageVersion = "AKSUbuntu-2204gen2containerd-202502.01.0"
	rolled := syncList(t, k, spec)
	if got := names(rolled); got != sys+"000002 "+sys+"000003 "+user+"000000" {
		t.Fatalf("after a roll: %q", got)
	}
	if rolled[sys+"000002"].Metadata.Labels["kubernetes.azure.com/node-image-version"] != "AKSUbuntu-2204gen2containerd-202502.01.0" {
		t.Errorf("rolled node labels: %v", rolled[sys+"000002"].Metadata.Labels)
	}
	if rolled[user+"000000"].Metadata.ResourceVersion != nodes[user+"000000"].Metadata.ResourceVersion {
		t.Error("a roll of one pool touched another")
	}
	// Credentials alone roll too; the image label stays.
	spec.Pools[0].Rolls++
	if got := names(syncList(t, k, spec)); got != sys+"000004 "+sys+"000005 "+user+"000000" {
		t.Fatalf("after a credentials roll: %q", got)
	}

	// A removed pool's nodes go; a node aksid does not own stays.
	spec.Pools = spec.Pools[:1]
	if got := names(syncList(t, k, spec)); got != sys+"000004 "+sys+"000005" {
		t.Fatalf("after removing userpool: %q", got)
	}
	if _, ok := listNodes(t, k, "")["virtual-node"]; !ok {
		t.Fatal("a node without aksid's pool label was deleted")
	}
	spec.Pools = nil
	if got := names(syncList(t, k, spec)); got != "" {
		t.Fatalf("no pools: %q", got)
	}
}

func TestNodeNames(t *testing.T) {
	prefix := scaleSetName("/SUBSCRIPTIONS/S/resourcegroups/RG/providers/x/managedClusters/C", "NodePool1")
	if prefix != scaleSetName("/subscriptions/s/resourceGroups/rg/providers/x/managedClusters/c", "nodepool1") {
		t.Fatal("the digits depend on case")
	}
	w := desiredNode(aks.KubeSpec{ID: "/subscriptions/s/resourceGroups/rg/providers/x/managedClusters/c"}, 0, aks.Pool{Name: "nodepool1"}, 36*36+35)
	if w.name != prefix+"00010z" {
		t.Fatalf("name %q: six base-36 digits", w.name)
	}
	if n, ok := instanceOf(w.name, prefix); !ok || n != 36*36+35 {
		t.Fatalf("instanceOf(%q) = %d %v", w.name, n, ok)
	}
	if _, ok := instanceOf(prefix+"00000", prefix); ok {
		t.Fatal("five digits parsed")
	}
}
