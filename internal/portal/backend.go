package portal

import (
	"context"

	"github.com/aksid/aksid/internal/aks"
)

// Backend is what the portal shows and does that no Azure API offers:
// the emulated hosts managed identities are bound to, and cluster checks,
// which act as the cluster's own identity.
type Backend interface {
	Hosts(ctx context.Context) ([]Host, error)
	LastClusterCheck(ctx context.Context, clusterID string) (aks.CheckRun, bool, error)
	CheckCluster(ctx context.Context, clusterID string) (aks.CheckRun, error)
}

// Host is an emulated machine and the identities it may act as.
type Host struct {
	Name, Kind, ResourceID string
	SystemAssigned         *HostIdentity
	UserAssigned           []HostIdentity
}

// HostIdentity is a managed identity bound to a host.
type HostIdentity struct {
	ClientID, PrincipalID, ResourceID string
}
