package kubeplane

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// objectMeta is the part of an object's metadata the controllers read.
type objectMeta struct {
	Name              string   `json:"name"`
	Namespace         string   `json:"namespace"`
	UID               string   `json:"uid"`
	ResourceVersion   string   `json:"resourceVersion"`
	DeletionTimestamp *string  `json:"deletionTimestamp"`
	Finalizers        []string `json:"finalizers"`
}

// recordEvent writes a new core/v1 Event from component about the
// object of kind with metadata m, and returns the Event's name.
func recordEvent(ctx context.Context, k Kube, kind string, m objectMeta, component, typ, reason, message string) (string, error) {
	now := time.Now().UTC().Format(time.RFC3339)
	name := fmt.Sprintf("%s.%x", m.Name, time.Now().UnixNano())
	ev := map[string]any{"apiVersion": "v1", "kind": "Event",
		"metadata": map[string]any{"name": name, "namespace": m.Namespace},
		"involvedObject": map[string]any{"kind": kind, "namespace": m.Namespace, "name": m.Name,
			"uid": m.UID, "apiVersion": "v1", "resourceVersion": m.ResourceVersion},
		"reason": reason, "message": message, "type": typ, "count": 1,
		"source": map[string]any{"component": component}, "reportingComponent": component,
		"firstTimestamp": now, "lastTimestamp": now}
	return name, k.Do(ctx, http.MethodPost, "/api/v1/namespaces/"+m.Namespace+"/events", "", ev, nil)
}
