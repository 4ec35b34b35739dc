package azrbac

// operation is one built-in resource of a cluster's API server and the
// data actions ARM lists for it. Guard builds the same from the cluster's
// discovery joined with ARM's operations list (util/azure/utils.go,
// createOperationsMap); aksid's clusters run a stock kube-apiserver, so
// the table is fixed. It serves only wildcard requests: a request naming
// its group and resource needs no table, custom resources included.
type operation struct {
	group, resource string
	namespaced      bool
	extra           []string // actions beyond read, write and delete
}

func (o operation) actions() []string {
	return append([]string{"read", "write", "delete"}, o.extra...)
}

// Namespaced and cluster-scoped resources, by group ("" is the core group).
var operations = func() []operation {
	var ops []operation
	add := func(group string, namespaced bool, resources ...string) {
		for _, r := range resources {
			ops = append(ops, operation{group: group, resource: r, namespaced: namespaced})
		}
	}
	add("", true, "configmaps", "endpoints", "events", "limitranges", "persistentvolumeclaims",
		"podtemplates", "replicationcontrollers", "resourcequotas", "secrets", "services")
	add("", false, "componentstatuses", "namespaces", "nodes", "persistentvolumes")
	ops = append(ops,
		operation{group: "", resource: "pods", namespaced: true, extra: []string{"exec/action"}},
		operation{group: "", resource: "serviceaccounts", namespaced: true, extra: []string{"impersonate/action"}},
		operation{group: "rbac.authorization.k8s.io", resource: "roles", namespaced: true, extra: []string{"bind/action", "escalate/action"}},
		operation{group: "rbac.authorization.k8s.io", resource: "clusterroles", extra: []string{"bind/action", "escalate/action"}})
	add("rbac.authorization.k8s.io", true, "rolebindings")
	add("rbac.authorization.k8s.io", false, "clusterrolebindings")
	add("apps", true, "controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets")
	add("autoscaling", true, "horizontalpodautoscalers")
	add("batch", true, "cronjobs", "jobs")
	add("coordination.k8s.io", true, "leases")
	add("discovery.k8s.io", true, "endpointslices")
	add("events.k8s.io", true, "events")
	add("networking.k8s.io", true, "ingresses", "networkpolicies")
	add("networking.k8s.io", false, "ingressclasses")
	add("policy", true, "poddisruptionbudgets")
	add("storage.k8s.io", true, "csistoragecapacities")
	add("storage.k8s.io", false, "csidrivers", "csinodes", "storageclasses", "volumeattachments")
	add("scheduling.k8s.io", false, "priorityclasses")
	add("node.k8s.io", false, "runtimeclasses")
	add("admissionregistration.k8s.io", false, "mutatingwebhookconfigurations", "validatingwebhookconfigurations",
		"validatingadmissionpolicies", "validatingadmissionpolicybindings")
	add("apiextensions.k8s.io", false, "customresourcedefinitions")
	add("apiregistration.k8s.io", false, "apiservices")
	add("certificates.k8s.io", false, "certificatesigningrequests")
	add("flowcontrol.apiserver.k8s.io", false, "flowschemas", "prioritylevelconfigurations")
	return ops
}()
