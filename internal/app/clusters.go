package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/cloudprovider"
)

// clusterOps are the cluster actions only a running server has.
type clusterOps struct {
	aks   *aks.Service
	check *cloudprovider.Service
}

var errNeedsServer = errors.New("this command needs a running aksid: start `aksid serve` first")

// ClusterID turns "<group>/<name>" (in aksid's subscription) or a full
// managed cluster resource ID into the resource ID.
func ClusterID(ref string) (string, error) {
	if strings.HasPrefix(ref, "/") {
		return ref, nil
	}
	group, name, ok := strings.Cut(ref, "/")
	if !ok || group == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("name the cluster as <resource-group>/<name> or by its resource ID, not %q", ref)
	}
	return "/subscriptions/" + bootstrap.SubscriptionID + "/resourceGroups/" + group +
		"/providers/Microsoft.ContainerService/managedClusters/" + name, nil
}

// CheckCluster acts as the cluster's identity and reports what it may do.
func (o *Ops) CheckCluster(ctx context.Context, req cloudprovider.Request) ([]cloudprovider.Check, error) {
	if o.clusters == nil {
		return nil, errNeedsServer
	}
	return o.clusters.check.Check(ctx, req)
}

// AzureJSON is the cluster's /etc/kubernetes/azure.json.
func (o *Ops) AzureJSON(ctx context.Context, clusterID string) (map[string]any, error) {
	if o.clusters == nil {
		return nil, errNeedsServer
	}
	return o.clusters.aks.AzureJSON(ctx, clusterID)
}
