package kubeplane

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aksid/aksid/internal/aks"
)

// The workload identity webhook as AKS registers it.
const (
	wiWebhookConfig = "azure-wi-webhook-mutating-webhook-configuration"
	wiWebhookName   = "mutation.azure-workload-identity.io"
	mutatingV1      = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
)

// syncWorkloadIdentity registers aksid's workload identity webhook in the
// cluster while securityProfile.workloadIdentity is on, and removes it
// when it is off. The URL is aksid's own, rewritten at each start, as a
// restarted aksid may listen elsewhere.
func (p *Plane) syncWorkloadIdentity(ctx context.Context, k Kube, spec aks.KubeSpec) error {
	if !spec.WorkloadIdentity {
		return k.Delete(ctx, mutatingV1+"/"+wiWebhookConfig)
	}
	return k.Apply(ctx, mutatingV1, wiWebhookConfig, p.wiWebhookObject())
}

// wiWebhookObject is the workload identity webhook's configuration.
func (p *Plane) wiWebhookObject() map[string]any {
	return map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
		"metadata": map[string]any{"name": wiWebhookConfig, "labels": map[string]any{"azure-workload-identity.io/system": "true"}},
		"webhooks": []any{map[string]any{
			"name":                    wiWebhookName,
			"admissionReviewVersions": []string{"v1", "v1beta1"},
			"clientConfig":            map[string]any{"url": p.cfg.WebhookBase + MutatePath, "caBundle": p.cfg.WebhookCA},
			"failurePolicy":           "Fail",
			"matchPolicy":             "Equivalent",
			"reinvocationPolicy":      "IfNeeded",
			"sideEffects":             "None",
			"timeoutSeconds":          10,
			"objectSelector":          map[string]any{"matchLabels": map[string]any{"azure.workload.identity/use": "true"}},
			"rules": []any{map[string]any{"apiGroups": []string{""}, "apiVersions": []string{"v1"},
				"operations": []string{"CREATE"}, "resources": []string{"pods"}, "scope": "*"}},
		}},
	}
}

// ServiceAccount reads a service account's annotations from the cluster's
// running API server (IsNotFound when it has none of that name).
func (p *Plane) ServiceAccount(ctx context.Context, id, namespace, name string) (map[string]string, error) {
	ep, ok := p.cfg.Supervisor.Running(id)
	if !ok {
		return nil, fmt.Errorf("kubeplane: the API server of %s is not running", id)
	}
	var sa struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	path := "/api/v1/namespaces/" + url.PathEscape(namespace) + "/serviceaccounts/" + url.PathEscape(name)
	if err := (Kube{Base: ep.URL, HTTP: ep.Client}).Get(ctx, path, &sa); err != nil {
		return nil, err
	}
	return sa.Metadata.Annotations, nil
}
