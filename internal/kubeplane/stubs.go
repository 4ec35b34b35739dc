package kubeplane

import (
	"context"
	"log/slog"

	"github.com/aksid/aksid/internal/aks"
)

// LoadBalancers acts for Services of type LoadBalancer (to be written).
type LoadBalancers interface{}

// syncNodes makes the pools' Node objects (to be written).
func syncNodes(ctx context.Context, k Kube, spec aks.KubeSpec) error { return nil }

// runServices watches LoadBalancer Services (to be written).
func runServices(ctx context.Context, k Kube, clusterID string, lb LoadBalancers, log *slog.Logger) {
	<-ctx.Done()
}
