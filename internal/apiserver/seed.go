package apiserver

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/google/uuid"
)

// The objects kube-apiserver's start-up hooks and controllers make in an
// empty cluster and then wait for before /readyz answers, exactly as they
// make them with prepare's flags (the feature gates and runtime config
// change them):
//   - the default RBAC objects (cluster-admin, the system: roles and
//     their bindings): the rbac/bootstrap-roles hook first runs a second
//     after the server serves, then creates ~130 objects one by one,
//     ~2 s in all;
//   - an APIService per built-in group version, Available as local ones
//     are (autoregister-completion waits for all of them);
//   - the default ServiceCIDR "kubernetes", Ready (its controller and the
//     Service IP repair controller poll for it every 100 ms);
//   - the system namespaces, which its controller makes once it has
//     listed namespaces, outside /readyz (see SystemNamespaces).
//
// Written into an empty cluster's etcd prefix as the server starts, they
// are there from its first answer, and the hooks and controllers find
// nothing to do: a first start is ready ~0.2 s after it serves instead
// of ~2 s. TestRealAPIServer checks this file against what an unseeded
// server makes; -update-seed rewrites it.
//
//go:embed seed.json
var seedJSON []byte

// seedBootstrap is cleared by the test that rewrites seed.json from what
// the server makes alone.
var seedBootstrap = true

// bootstrapSeed is seed.json: the objects and the release that made them.
type bootstrapSeed struct {
	Version string            `json:"version"`
	Objects []json.RawMessage `json:"objects"`
}

// seedObject is the part of an object that names its etcd key.
type seedObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace,omitempty"`
	} `json:"metadata"`
}

// seedKinds are the seeded kinds, in seed.json's order, each with its
// etcd key's first part under the cluster's prefix and its list URL, as
// kube-apiserver stores and serves it.
var seedKinds = []struct{ kind, key, list string }{
	{"ClusterRole", "clusterroles", "/apis/rbac.authorization.k8s.io/v1/clusterroles"},
	{"ClusterRoleBinding", "clusterrolebindings", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"},
	{"Role", "roles", "/apis/rbac.authorization.k8s.io/v1/roles"},
	{"RoleBinding", "rolebindings", "/apis/rbac.authorization.k8s.io/v1/rolebindings"},
	{"APIService", "apiregistration.k8s.io/apiservices", "/apis/apiregistration.k8s.io/v1/apiservices"},
	{"ServiceCIDR", "servicecidrs", "/apis/networking.k8s.io/v1/servicecidrs"},
	{"Namespace", "namespaces", "/api/v1/namespaces"},
}

// clusterKinds are the kinds of a Cluster's Objects, each with its etcd
// key's first part.
var clusterKinds = []struct{ kind, key string }{
	{"Node", "minions"},
	{"ClusterRoleBinding", "clusterrolebindings"},
	{"MutatingWebhookConfiguration", "mutatingwebhookconfigurations"},
	{"ServiceAccount", "serviceaccounts"},
	{"ConfigMap", "configmaps"},
}

// seedKey is kind's etcd key part, or "" when kind is not seeded.
func seedKey(kind string) string {
	for _, k := range seedKinds {
		if k.kind == kind {
			return k.key
		}
	}
	for _, k := range clusterKinds {
		if k.kind == kind {
			return k.key
		}
	}
	return ""
}

// seedKVs gives each seeded object its etcd key under prefix, a fresh
// uid, and its creation and condition times now, as the API would.
func seedKVs(objects []json.RawMessage, prefix string, now time.Time) (map[string][]byte, error) {
	stamp := now.UTC().Format(time.RFC3339)
	kvs := make(map[string][]byte, len(objects))
	for _, raw := range objects {
		var o seedObject
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		key := seedKey(o.Kind)
		if key == "" || o.Metadata.Name == "" {
			return nil, fmt.Errorf("apiserver: the seed holds a %q named %q", o.Kind, o.Metadata.Name)
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, err
		}
		meta, _ := obj["metadata"].(map[string]any)
		meta["uid"] = uuid.NewString()
		meta["creationTimestamp"] = stamp
		if status, ok := obj["status"].(map[string]any); ok {
			conds, _ := status["conditions"].([]any)
			for _, c := range conds {
				if c, ok := c.(map[string]any); ok {
					c["lastTransitionTime"] = stamp
					if _, ok := c["lastHeartbeatTime"]; ok {
						c["lastHeartbeatTime"] = stamp
					}
				}
			}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		kvs[path.Join(prefix, key, o.Metadata.Namespace, o.Metadata.Name)] = b
	}
	return kvs, nil
}

// seedBootstrapObjects writes seed.json's objects and the cluster's own
// under the cluster's prefix if nothing is stored there yet, and tells
// whether it did. It returns the release the seed came from, for the
// caller to compare with the server's.
func seedBootstrapObjects(ctx context.Context, e *etcd, prefix string, own []json.RawMessage) (bool, string, error) {
	var seed bootstrapSeed
	if err := json.Unmarshal(seedJSON, &seed); err != nil {
		return false, "", err
	}
	kvs, err := seedKVs(append(seed.Objects[:len(seed.Objects):len(seed.Objects)], own...), prefix, time.Now())
	if err != nil {
		return false, "", err
	}
	ok, err := e.putIfEmpty(ctx, prefix+"/", kvs)
	return ok, seed.Version, err
}

// SystemNamespaces are the namespaces kube-apiserver makes itself. Its
// controller makes them after the server answers and /readyz does not
// wait for them, so a kubectl create right after az aks get-credentials
// could find no "default" namespace; a start waits until they exist
// (seeded, they are there from the first answer).
var SystemNamespaces = []string{"kube-system", "kube-public", "default", "kube-node-lease"}

// namespacesMade tells whether the server holds every system namespace.
func namespacesMade(ctx context.Context, ep *Endpoint) bool {
	var list struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if !getOK(ctx, ep, "/api/v1/namespaces", &list) {
		return false
	}
	have := map[string]bool{}
	for _, it := range list.Items {
		have[it.Metadata.Name] = true
	}
	for _, ns := range SystemNamespaces {
		if !have[ns] {
			return false
		}
	}
	return true
}
