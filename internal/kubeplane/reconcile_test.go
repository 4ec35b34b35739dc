package kubeplane

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/apiserver"
)

// TestFirstObjectsAreWhatReconcileMakes: what a first start writes with
// the seed is what reconcile makes through the API, so that reconcile,
// run beside the first connection, finds nothing to write.
func TestFirstObjectsAreWhatReconcileMakes(t *testing.T) {
	k := testKube(t)
	spec := nodeSpec()
	spec.AdminGroups = []string{"00000000-0000-0000-0000-00000000000a"}
	p := New(Config{WebhookBase: "https://127.0.0.1:1", WebhookCA: []byte("ca")})
	objs, err := p.firstObjects(spec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	made := syncList(t, k, spec)
	kinds := map[string]int{}
	for _, raw := range objs {
		var o struct{ Kind string }
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		kinds[o.Kind]++
		if o.Kind != "Node" {
			continue
		}
		var n node
		var full fullNode
		if json.Unmarshal(raw, &n) != nil || json.Unmarshal(raw, &full) != nil {
			t.Fatalf("node %s", raw)
		}
		m, ok := made[n.Metadata.Name]
		if !ok {
			t.Errorf("first start writes node %s, which reconcile does not make", n.Metadata.Name)
			continue
		}
		if !maps.Equal(n.Metadata.Labels, m.Metadata.Labels) || full.Spec.ProviderID != m.Spec.ProviderID ||
			len(n.Spec.Taints) != 0 || !sameStatus(n.Status, m.Status) || n.Metadata.Annotations[rollAnnotation] != "0" {
			t.Errorf("node %s written at a first start:\n%s\nmade by reconcile: %+v", n.Metadata.Name, raw, m)
		}
		for _, c := range n.Status.Conditions {
			if c.LastHeartbeatTime == "" || c.LastTransitionTime == "" {
				t.Errorf("node %s condition %s without its times", n.Metadata.Name, c.Type)
			}
		}
	}
	if kinds["Node"] != len(made) || kinds["ClusterRoleBinding"] != 1 || kinds["MutatingWebhookConfiguration"] != 0 {
		t.Fatalf("first objects %v; reconcile makes %d nodes, one admin binding, no webhook", kinds, len(made))
	}
	// What the namespace controller makes, without a CA to publish: the
	// default account of each system namespace.
	if kinds["ServiceAccount"] != len(apiserver.SystemNamespaces) || kinds["ConfigMap"] != 0 {
		t.Fatalf("first objects %v; want a default account in each of %v and no root CA", kinds, apiserver.SystemNamespaces)
	}
	spec.WorkloadIdentity, spec.AdminGroups, spec.CA = true, nil, &aks.ClusterCA{}
	if objs, err = p.firstObjects(spec, time.Now()); err != nil {
		t.Fatal(err)
	}
	kinds = map[string]int{}
	for _, raw := range objs {
		var o struct{ Kind string }
		_ = json.Unmarshal(raw, &o)
		kinds[o.Kind]++
	}
	if kinds["ClusterRoleBinding"] != 0 || kinds["MutatingWebhookConfiguration"] != 1 ||
		kinds["ConfigMap"] != len(apiserver.SystemNamespaces) {
		t.Fatalf("with workload identity, a CA and no admin groups: %v", kinds)
	}
}
