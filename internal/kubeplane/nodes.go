package kubeplane

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aksid/aksid/internal/aks"
)

const (
	nodesPath = "/api/v1/nodes"
	mergePath = "application/merge-patch+json"
	// poolLabel marks the nodes aksid keeps; others are left alone.
	poolLabel = "kubernetes.azure.com/agentpool"
	// rollAnnotation records which roll of its pool made a node, so a
	// roll replaces it while a scale keeps it.
	rollAnnotation = "aksid/node-roll"
	// notReadyTaint is what admission puts on a new node; the node
	// lifecycle controller would lift it once Ready, but none runs.
	notReadyTaint = "node.kubernetes.io/not-ready"
)

// node is the part of a Node aksid reads and compares.
type node struct {
	Metadata struct {
		Name        string            `json:"name"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Taints []map[string]any `json:"taints"`
	} `json:"spec"`
	Status nodeStatus `json:"status"`
}

type nodeStatus struct {
	Capacity        map[string]string `json:"capacity"`
	Allocatable     map[string]string `json:"allocatable"`
	Conditions      []condition       `json:"conditions"`
	Addresses       []address         `json:"addresses"`
	DaemonEndpoints struct {
		KubeletEndpoint struct {
			Port int `json:"Port"`
		} `json:"kubeletEndpoint"`
	} `json:"daemonEndpoints"`
	NodeInfo nodeInfo `json:"nodeInfo"`
}

type condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
	LastHeartbeatTime  string `json:"lastHeartbeatTime,omitempty"`
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`
}

type address struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

type nodeInfo struct {
	MachineID               string `json:"machineID"`
	SystemUUID              string `json:"systemUUID"`
	BootID                  string `json:"bootID"`
	KernelVersion           string `json:"kernelVersion"`
	OSImage                 string `json:"osImage"`
	ContainerRuntimeVersion string `json:"containerRuntimeVersion"`
	KubeletVersion          string `json:"kubeletVersion"`
	OperatingSystem         string `json:"operatingSystem"`
	Architecture            string `json:"architecture"`
}

// syncNodes makes each agent pool's nodes Ready Node objects named as
// AKS names scale-set nodes. A scale keeps the nodes there are and adds
// or drops the highest instances; a roll (new node image, new
// credentials, new version) replaces them with new instances, as a surge
// upgrade does. It writes only what differs.
func syncNodes(ctx context.Context, k Kube, spec aks.KubeSpec) error {
	var list struct {
		Items []node `json:"items"`
	}
	if err := k.Get(ctx, nodesPath+"?labelSelector="+url.QueryEscape(poolLabel), &list); err != nil {
		return err
	}
	byPool := map[string][]node{}
	for _, n := range list.Items {
		p := n.Metadata.Labels[poolLabel]
		byPool[p] = append(byPool[p], n)
	}
	for i, pool := range spec.Pools {
		if err := syncPool(ctx, k, spec, i, pool, byPool[pool.Name]); err != nil {
			return err
		}
		delete(byPool, pool.Name)
	}
	for _, gone := range byPool {
		for _, n := range gone {
			if err := k.Delete(ctx, nodesPath+"/"+n.Metadata.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// nodeWriters bounds the nodes written at once.
const nodeWriters = 8

func syncPool(ctx context.Context, k Kube, spec aks.KubeSpec, index int, pool aks.Pool, have []node) error {
	prefix := scaleSetName(spec.ID, pool.Name)
	type inst struct {
		n   int
		cur *node
	}
	var keep []inst
	next := 0
	for i := range have {
		n, ok := instanceOf(have[i].Metadata.Name, prefix)
		if ok && n >= next {
			next = n + 1
		}
		want := desiredNode(spec, index, pool, n)
		if ok && have[i].Metadata.Annotations[rollAnnotation] == want.roll &&
			have[i].Metadata.Labels["kubernetes.azure.com/node-image-version"] == want.labels["kubernetes.azure.com/node-image-version"] &&
			have[i].Status.NodeInfo.KubeletVersion == want.status.NodeInfo.KubeletVersion {
			keep = append(keep, inst{n, &have[i]})
		}
	}
	slices.SortFunc(keep, func(a, b inst) int { return a.n - b.n })
	if len(keep) > pool.Count {
		keep = keep[:max(pool.Count, 0)]
	}
	for len(keep) < pool.Count {
		keep = append(keep, inst{n: next})
		next++
	}
	kept := map[string]bool{}
	// Nodes are written side by side: each takes three writes in turn
	// (create, untaint, status), and a new cluster's first answer waits
	// for all of them.
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, nodeWriters)
	)
	for _, in := range keep {
		want := desiredNode(spec, index, pool, in.n)
		kept[want.name] = true
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := ensureNode(ctx, k, want, in.cur); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("node %s: %w", want.name, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	for _, n := range have {
		if !kept[n.Metadata.Name] {
			if err := k.Delete(ctx, nodesPath+"/"+n.Metadata.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureNode creates the node or mends what differs from want.
func ensureNode(ctx context.Context, k Kube, want wantNode, cur *node) error {
	path := nodesPath + "/" + want.name
	if cur == nil {
		created := &node{}
		err := k.Do(ctx, "POST", nodesPath, "", map[string]any{"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": want.name, "labels": want.labels, "annotations": map[string]string{rollAnnotation: want.roll}},
			"spec":     map[string]any{"providerID": want.providerID}}, created)
		if err != nil {
			return err
		}
		cur = created
	}
	var patch map[string]any
	for key, v := range want.labels {
		if got, ok := cur.Metadata.Labels[key]; !ok || got != v {
			patch = map[string]any{"metadata": map[string]any{"labels": want.labels}}
			break
		}
	}
	if taints := withoutNotReady(cur.Spec.Taints); len(taints) != len(cur.Spec.Taints) {
		if patch == nil {
			patch = map[string]any{}
		}
		patch["spec"] = map[string]any{"taints": taints}
	}
	if patch != nil {
		if err := k.Do(ctx, "PATCH", path, mergePath, patch, nil); err != nil {
			return err
		}
	}
	if sameStatus(cur.Status, want.status) {
		return nil
	}
	status := want.status
	status.Conditions = slices.Clone(status.Conditions)
	now := time.Now().UTC().Format(time.RFC3339)
	for i := range status.Conditions {
		status.Conditions[i].LastHeartbeatTime, status.Conditions[i].LastTransitionTime = now, now
	}
	return k.Do(ctx, "PATCH", path+"/status", mergePath, map[string]any{"status": status}, nil)
}

func withoutNotReady(taints []map[string]any) []map[string]any {
	out := []map[string]any{}
	for _, t := range taints {
		if t["key"] != notReadyTaint {
			out = append(out, t)
		}
	}
	return out
}

// sameStatus compares what aksid sets, leaving out the times.
func sameStatus(a, b nodeStatus) bool {
	strip := func(s nodeStatus) nodeStatus {
		s.Conditions = slices.Clone(s.Conditions)
		for i := range s.Conditions {
			s.Conditions[i].LastHeartbeatTime, s.Conditions[i].LastTransitionTime = "", ""
		}
		return s
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

// wantNode is one node as its pool says it should be.
type wantNode struct {
	name, roll, providerID string
	labels                 map[string]string
	status                 nodeStatus
}

func desiredNode(spec aks.KubeSpec, index int, pool aks.Pool, instance int) wantNode {
	ss := scaleSetName(spec.ID, pool.Name)
	digits := strconv.FormatInt(int64(instance), 36)
	name := ss + strings.Repeat("0", max(6-len(digits), 0)) + digits
	version := pool.Version
	if version == "" {
		version = spec.Version
	}
	osType := strings.ToLower(pool.OSType)
	if osType == "" {
		osType = "linux"
	}
	sku := pool.OSSKU
	if sku == "" {
		sku = "Ubuntu"
	}
	size := sizeOf(pool.VMSize)
	pods := strconv.Itoa(pool.MaxPods)
	if pool.MaxPods == 0 {
		pods = "110" // the kubelet's own default, as an older aksid left it
	}
	labels := map[string]string{
		"agentpool": pool.Name, poolLabel: pool.Name,
		"kubernetes.azure.com/mode":               strings.ToLower(pool.Mode),
		"kubernetes.azure.com/node-image-version": pool.ImageVersion,
		"kubernetes.azure.com/os-sku":             sku,
		"kubernetes.azure.com/role":               "agent",
		"kubernetes.azure.com/cluster":            spec.NodeResourceGroup,
		"kubernetes.azure.com/nodepool-type":      "VirtualMachineScaleSets",
		"kubernetes.io/os":                        osType, "beta.kubernetes.io/os": osType,
		"kubernetes.io/arch": "amd64", "beta.kubernetes.io/arch": "amd64",
		"kubernetes.io/hostname":           name,
		"kubernetes.io/role":               "agent",
		"node-role.kubernetes.io/agent":    "",
		"node.kubernetes.io/instance-type": pool.VMSize, "beta.kubernetes.io/instance-type": pool.VMSize,
		"topology.kubernetes.io/region": spec.Location, "topology.kubernetes.io/zone": "0",
	}
	// Addresses follow the pool's place and the instance, so they stay put
	// across scales; the first pool's first node is 10.224.0.4, as on AKS.
	host := 4 + instance
	ip := fmt.Sprintf("10.224.%d.%d", (index*16+host/256)%256, host%256)
	id := fnv.New128a()
	id.Write([]byte(strings.ToLower(spec.ID) + "/" + name))
	sum := id.Sum(nil)
	uuid := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	st := nodeStatus{
		Capacity: map[string]string{"cpu": size.cpu, "memory": size.memory, "pods": pods,
			"ephemeral-storage": "129886128Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
		Allocatable: map[string]string{"cpu": size.allocCPU, "memory": size.allocMemory, "pods": pods,
			"ephemeral-storage": "119703055367", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
		Conditions: []condition{
			{Type: "MemoryPressure", Status: "False", Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
			{Type: "DiskPressure", Status: "False", Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
			{Type: "PIDPressure", Status: "False", Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
			{Type: "Ready", Status: "True", Reason: "KubeletReady", Message: "kubelet is posting ready status"},
		},
		Addresses: []address{{Type: "InternalIP", Address: ip}, {Type: "Hostname", Address: name}},
		NodeInfo: nodeInfo{MachineID: strings.ReplaceAll(uuid, "-", ""), SystemUUID: uuid, BootID: uuid,
			KernelVersion: "5.15.0-1089-azure", OSImage: "Ubuntu 22.04.5 LTS", ContainerRuntimeVersion: "containerd://1.7.27-1",
			KubeletVersion: "v" + strings.TrimPrefix(version, "v"), OperatingSystem: osType, Architecture: "amd64"},
	}
	st.DaemonEndpoints.KubeletEndpoint.Port = 10250
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(spec.ID), "/subscriptions/"), "/")[0]
	providerID := "azure:///subscriptions/" + sub + "/resourceGroups/" + strings.ToLower(spec.NodeResourceGroup) +
		"/providers/Microsoft.Compute/virtualMachineScaleSets/" + ss + "/virtualMachines/" + strconv.Itoa(instance)
	return wantNode{name: name, roll: strconv.Itoa(pool.Rolls), providerID: providerID, labels: labels, status: st}
}

// scaleSetName is the start of a pool's node names, "aks-<pool>-<8
// digits>-vmss": the digits are stable for the cluster and pool.
func scaleSetName(clusterID, pool string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(clusterID) + "/" + strings.ToLower(pool)))
	return fmt.Sprintf("aks-%s-%08d-vmss", strings.ToLower(pool), h.Sum32()%100_000_000)
}

// instanceOf reads the scale-set instance number (base 36) from a node name.
func instanceOf(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) != 6 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 36, 32)
	return int(n), err == nil && n >= 0
}

// vmSize is what a node of a size reports; the values are canonical
// quantities, so what the API server echoes compares equal.
type vmSize struct{ cpu, memory, allocCPU, allocMemory string }

var vmSizes = map[string]vmSize{
	"standard_ds2_v2": {"2", "7097684Ki", "1900m", "4652372Ki"},
	"standard_d2s_v3": {"2", "8141272Ki", "1900m", "5579736Ki"},
	"standard_d2s_v5": {"2", "8141272Ki", "1900m", "5579736Ki"},
	"standard_d4s_v3": {"4", "16393340Ki", "3860m", "12989564Ki"},
	"standard_d4s_v5": {"4", "16393340Ki", "3860m", "12989564Ki"},
	"standard_ds3_v2": {"4", "14339936Ki", "3860m", "11219872Ki"},
	"standard_b2s":    {"2", "4025880Ki", "1900m", "2213912Ki"},
}

func sizeOf(name string) vmSize {
	if s, ok := vmSizes[strings.ToLower(name)]; ok {
		return s
	}
	return vmSizes["standard_ds2_v2"]
}
