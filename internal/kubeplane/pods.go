package kubeplane

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Nothing here runs a pod: there is no scheduler and no kubelet. So that
// `kubectl describe pod` says why a pod stays Pending, each pod that no
// node has taken is marked as the scheduler marks a pod no node can take
// (PodScheduled False, Unschedulable) and gets one FailedScheduling
// Event, both with the reason. The condition is the record: a pod that
// has it is left alone, also after aksid restarts.
const (
	podComponent = "aksid"
	podNotRun    = "aksid's clusters run no pods: their nodes have no kubelet or container runtime, so no node takes this pod and it stays Pending. " +
		"Its API object is real (kubectl, admission and workload identity's webhook act on it)."
	strategicMerge = "application/strategic-merge-patch+json"
)

// pod is the part of a Pod the controller reads.
type pod struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

// waiting tells whether the pod is one no node has taken and that is not
// marked yet.
func (p *pod) waiting() bool {
	if p.Metadata.DeletionTimestamp != nil || p.Spec.NodeName != "" || (p.Status.Phase != "" && p.Status.Phase != "Pending") {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == "PodScheduled" {
			return false
		}
	}
	return true
}

// runPods marks new pods until ctx ends: it lists the pods, marks those
// waiting, and watches for the next change.
func runPods(ctx context.Context, k Kube, log *slog.Logger) {
	for ctx.Err() == nil {
		rv, err := markPods(ctx, k, log)
		if err != nil {
			if ctx.Err() == nil {
				log.Debug("pods not listed", "err", err)
			}
			pause(ctx, watchPause)
			continue
		}
		watchChange(ctx, k, "/api/v1/pods", rv, time.Now().Add(watchFor))
	}
}

// markPods marks every waiting pod and returns the list's resourceVersion.
func markPods(ctx context.Context, k Kube, log *slog.Logger) (string, error) {
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []pod `json:"items"`
	}
	if err := k.Get(ctx, "/api/v1/pods", &list); err != nil {
		return "", err
	}
	for i := range list.Items {
		p := &list.Items[i]
		if !p.waiting() {
			continue
		}
		now := time.Now().UTC().Format(time.RFC3339)
		status := map[string]any{"status": map[string]any{"conditions": []any{map[string]any{
			"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": podNotRun,
			"lastProbeTime": nil, "lastTransitionTime": now}}}}
		path := "/api/v1/namespaces/" + p.Metadata.Namespace + "/pods/" + p.Metadata.Name + "/status"
		if err := k.Do(ctx, http.MethodPatch, path, strategicMerge, status, nil); err != nil {
			continue // gone or changed meanwhile: the next list decides
		}
		if _, err := recordEvent(ctx, k, "Pod", p.Metadata, podComponent, "Warning", "FailedScheduling", podNotRun); err != nil && ctx.Err() == nil {
			log.Debug("event not recorded", "pod", p.Metadata.Namespace+"/"+p.Metadata.Name, "err", err)
		}
	}
	return list.Metadata.ResourceVersion, nil
}
