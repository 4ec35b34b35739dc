package guard

import (
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/directory"
)

// ErrNoEntra: the cluster has no aadProfile, so no Entra token is its
// user's (its API server should not ask).
var ErrNoEntra = errors.New("guard: the cluster has no Entra integration")

// Cluster is what a review needs to know of a managed cluster's Entra
// settings.
type Cluster struct {
	// ID is the cluster's ARM ID: the u a PoP request must name.
	ID string
	// TenantID is the one tenant whose v1 tokens are accepted (Guard's
	// --azure.tenant-id): aadProfile.tenantID, else the cluster's tenant.
	TenantID string
	// Managed is managed Entra (aadProfile.managed): tokens for AKS's
	// server application. Otherwise ServerAppID is the legacy server app.
	Managed     bool
	ServerAppID string
}

// ClusterFrom reads the Entra settings of a cluster as ARM shows it
// (aks.Service.Get's model) in tenantID, the tenant it was created in.
func ClusterFrom(id, tenantID string, model map[string]any) (Cluster, error) {
	props, _ := model["properties"].(map[string]any)
	aad, _ := props["aadProfile"].(map[string]any)
	if aad == nil {
		return Cluster{}, ErrNoEntra
	}
	c := Cluster{ID: id, TenantID: tenantID, Managed: aad["managed"] == true}
	if t, _ := aad["tenantID"].(string); strings.TrimSpace(t) != "" {
		c.TenantID = t
	}
	if !c.Managed {
		c.ServerAppID, _ = aad["serverAppID"].(string)
		if c.ServerAppID == "" {
			return Cluster{}, ErrNoEntra
		}
	}
	return c, nil
}

// serverApp is the application the cluster's tokens are for.
func (c Cluster) serverApp() string {
	if c.Managed {
		return directory.AKSServerApp
	}
	return c.ServerAppID
}
