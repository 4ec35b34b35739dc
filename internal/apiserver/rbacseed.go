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

// The default RBAC objects (cluster-admin, the system: roles and their
// bindings) exactly as kube-apiserver's rbac/bootstrap-roles hook makes
// them with prepare's flags (the feature gates change them). That hook
// first runs a second after the server serves, then creates ~130 objects
// one by one: ~2 s in all on a first start. Written into an empty
// cluster's etcd prefix as the server starts, they are there from its
// first answer, and the hook finds nothing to do. TestRealAPIServer
// checks this file against the hook; -update-rbac-seed rewrites it.
//
//go:embed rbacseed.json
var rbacSeedJSON []byte

// seedBootstrapRBAC is cleared by the test that rewrites rbacseed.json
// from what the hook makes alone.
var seedBootstrapRBAC = true

// rbacSeed is rbacseed.json: the objects and the release that made them.
type rbacSeed struct {
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

// rbacResources maps a seeded kind to its resource, the key's first part
// under the cluster's prefix as kube-apiserver stores it.
var rbacResources = map[string]string{
	"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
	"Role": "roles", "RoleBinding": "rolebindings",
}

// seedKVs gives each seeded object its etcd key under prefix and a fresh
// uid and creation time, as the API would.
func seedKVs(seed rbacSeed, prefix string, now time.Time) (map[string][]byte, error) {
	kvs := make(map[string][]byte, len(seed.Objects))
	for _, raw := range seed.Objects {
		var o seedObject
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		res, ok := rbacResources[o.Kind]
		if !ok || o.Metadata.Name == "" {
			return nil, fmt.Errorf("apiserver: RBAC seed holds a %q named %q", o.Kind, o.Metadata.Name)
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, err
		}
		meta, _ := obj["metadata"].(map[string]any)
		meta["uid"] = uuid.NewString()
		meta["creationTimestamp"] = now.UTC().Format(time.RFC3339)
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		kvs[path.Join(prefix, res, o.Metadata.Namespace, o.Metadata.Name)] = b
	}
	return kvs, nil
}

// seedRBAC writes the default RBAC objects under the cluster's prefix if
// nothing is stored there yet, and tells whether it did. It returns the
// release they came from, for the caller to compare with the server's.
func seedRBAC(ctx context.Context, e *etcd, prefix string) (bool, string, error) {
	var seed rbacSeed
	if err := json.Unmarshal(rbacSeedJSON, &seed); err != nil {
		return false, "", err
	}
	kvs, err := seedKVs(seed, prefix, time.Now())
	if err != nil {
		return false, "", err
	}
	ok, err := e.putIfEmpty(ctx, prefix+"/", kvs)
	return ok, seed.Version, err
}
