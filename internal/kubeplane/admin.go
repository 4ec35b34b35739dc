package kubeplane

import (
	"context"

	"github.com/aksid/aksid/internal/aks"
)

// adminBinding is the binding AKS makes for --aad-admin-group-object-ids.
const adminBinding = "aks-cluster-admin-binding-aad"

const rbacV1 = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"

// syncAdminBinding binds the cluster's Entra admin groups to cluster-admin,
// or removes the binding when there are none.
func syncAdminBinding(ctx context.Context, k Kube, spec aks.KubeSpec) error {
	obj := adminBindingObject(spec)
	if obj == nil {
		return k.Delete(ctx, rbacV1+"/"+adminBinding)
	}
	return k.Apply(ctx, rbacV1, adminBinding, obj)
}

// adminBindingObject is the admin groups' binding, nil when there are none.
func adminBindingObject(spec aks.KubeSpec) map[string]any {
	if len(spec.AdminGroups) == 0 {
		return nil
	}
	subjects := make([]any, 0, len(spec.AdminGroups))
	for _, g := range spec.AdminGroups {
		subjects = append(subjects, map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g})
	}
	return map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": adminBinding, "labels": map[string]any{"addonmanager.kubernetes.io/mode": "Reconcile"}},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
		"subjects": subjects,
	}
}
