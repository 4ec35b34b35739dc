package kubeplane

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/apiserver"
)

// reconcile makes the cluster's objects match its ARM record: the admin
// group binding, the workload identity webhook and the pools' nodes.
func (p *Plane) reconcile(ctx context.Context, k Kube, spec aks.KubeSpec) error {
	key := strings.ToLower(spec.ID)
	p.mu.Lock()
	delete(p.reconciled, key)
	p.mu.Unlock()
	if err := syncAdminBinding(ctx, k, spec); err != nil {
		return err
	}
	if err := p.syncWorkloadIdentity(ctx, k, spec); err != nil {
		return err
	}
	if err := syncNodes(ctx, k, spec); err != nil {
		return err
	}
	p.mu.Lock()
	p.reconciled[key] = reconcileKey(spec, p.cfg.WebhookBase)
	p.mu.Unlock()
	return nil
}

// reconcileKey is what reconcile makes a cluster's objects from.
func reconcileKey(spec aks.KubeSpec, webhookBase string) string {
	return fmt.Sprintf("%q|%t|%s|%s|%s|%s|%+v", spec.AdminGroups, spec.WorkloadIdentity, webhookBase,
		spec.NodeResourceGroup, spec.Location, spec.Version, spec.Pools)
}

// firstObjects are the objects reconcile makes in an empty cluster, as
// it would make them now: the Supervisor writes them with the bootstrap
// seed at the cluster's first start, so that its first answer (az aks
// create's kubectl get nodes) has them without a write through the API.
func (p *Plane) firstObjects(spec aks.KubeSpec, now time.Time) ([]json.RawMessage, error) {
	var objs []map[string]any
	if b := adminBindingObject(spec); b != nil {
		objs = append(objs, b)
	}
	if spec.WorkloadIdentity {
		objs = append(objs, p.wiWebhookObject())
	}
	// What the namespace controller gives each namespace, there before
	// the first pod: the ServiceAccount admission refuses a pod in a
	// namespace without its default account.
	for _, ns := range apiserver.SystemNamespaces {
		objs = append(objs, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": map[string]any{"name": "default", "namespace": ns}})
		if spec.CA != nil {
			objs = append(objs, rootCAObject(ns, spec.CA.PEM()))
		}
	}
	stamp := now.UTC().Format(time.RFC3339)
	for i, pool := range spec.Pools {
		for n := range max(pool.Count, 0) {
			want := desiredNode(spec, i, pool, n)
			status := want.status
			status.Conditions = slices.Clone(status.Conditions)
			for c := range status.Conditions {
				status.Conditions[c].LastHeartbeatTime, status.Conditions[c].LastTransitionTime = stamp, stamp
			}
			objs = append(objs, map[string]any{"apiVersion": "v1", "kind": "Node",
				"metadata": map[string]any{"name": want.name, "labels": want.labels, "annotations": map[string]string{rollAnnotation: want.roll}},
				"spec":     map[string]any{"providerID": want.providerID},
				"status":   status})
		}
	}
	out := make([]json.RawMessage, 0, len(objs))
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
