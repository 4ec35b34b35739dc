package aks

import (
	"context"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/netres"
	"github.com/aksid/aksid/internal/resources"
)

// Roles grants a cluster's control-plane identity what AKS grants it and
// answers what it may do.
type Roles interface {
	// GrantContributor makes the service principal principalID a
	// Contributor at scope; granting what is already granted is no error.
	GrantContributor(ctx context.Context, scope, principalID string) error
	// Allowed is Azure RBAC's decision on action at scope for a
	// principal and its groups.
	Allowed(ctx context.Context, principalIDs []string, action, scope string) (bool, error)
}

// NodeResources makes the cluster's load balancer and outbound IP in its
// node resource group, and removes what is there (with what the cloud
// provider made: public IPs, disks) when a create fails.
type NodeResources interface {
	Put(ctx context.Context, req netres.PutRequest) (resources.Upsert[netres.Resource], error)
	DeleteUnder(ctx context.Context, scope string) error
}

// ControlPlane is the identity a cluster's control plane (its cloud
// provider) acts as, with what it needs to sign in.
type ControlPlane struct {
	ID       string         // the cluster's resource ID as stored
	TenantID string         // the tenant the identity signs in to
	Model    map[string]any // the cluster as ARM shows it
	Managed  bool           // a managed identity rather than a service principal
	ClientID string         // the application (client) ID of the principal or identity
	Secret   string         // service principals: the decrypted secret
	// Managed identities: the identity's object ID (identity.principalId)
	// and resource ID (the cluster's own for a system-assigned identity),
	// which its tokens carry as xms_mirid.
	PrincipalID string
	ResourceID  string
}

// ControlPlane returns the cluster's control-plane identity, with the
// service principal's secret decrypted, as AKS hands it to the cloud
// provider.
func (s *Service) ControlPlane(ctx context.Context, id string) (ControlPlane, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return ControlPlane{}, err
	}
	cp := ControlPlane{ID: str(r.Model["id"]), TenantID: r.TenantID, Model: r.Model}
	if r.SealedSecret != nil {
		secret, err := s.seal.Open(secretLabel, r.SealedSecret)
		if err != nil {
			return ControlPlane{}, err
		}
		profile, _ := obj(r.Model, "properties")["servicePrincipalProfile"].(map[string]any)
		cp.ClientID, cp.Secret = str(profile["clientId"]), string(secret)
		return cp, nil
	}
	cp.Managed = true
	identity, _ := r.Model["identity"].(map[string]any)
	if r.SystemID != "" {
		cp.ClientID, cp.PrincipalID, cp.ResourceID = r.SystemID, str(identity["principalId"]), cp.ID
		return cp, nil
	}
	uai, _ := identity["userAssignedIdentities"].(map[string]any)
	for rid, v := range uai {
		m, _ := v.(map[string]any)
		cp.ClientID, cp.PrincipalID, cp.ResourceID = str(m["clientId"]), str(m["principalId"]), rid
	}
	if cp.ClientID == "" {
		return ControlPlane{}, azerr.New(azerr.Invalid, "BadRequest", "The cluster has no control-plane identity.")
	}
	return cp, nil
}

// grantNodeGroup makes the control-plane identity a Contributor on the node
// resource group, as AKS does: the cloud provider creates load balancers,
// public IPs and disks there as that identity.
func (s *Service) grantNodeGroup(ctx context.Context, sub, nodeRG, tenantID string, body map[string]any) error {
	if s.roles == nil {
		return nil
	}
	principal := ""
	identity, _ := body["identity"].(map[string]any)
	switch strings.ToLower(str(identity["type"])) {
	case "systemassigned":
		principal = str(identity["principalId"])
	case "userassigned":
		principal = userAssignedPrincipal(identity)
	default:
		profile, _ := obj(body, "properties")["servicePrincipalProfile"].(map[string]any)
		sp, err := s.dir.ServicePrincipal(ctx, tenantID, str(profile["clientId"]))
		if err != nil {
			return err
		}
		principal = sp.ObjectID
	}
	return s.roles.GrantContributor(ctx, "/subscriptions/"+sub+"/resourceGroups/"+nodeRG, principal)
}

// NodeIdentities are the identities AKS assigns to a cluster's nodes: the
// kubelet identity and each enabled add-on's. The control-plane identity
// is not among them; a service-principal cluster's nodes have none.
func (s *Service) NodeIdentities(ctx context.Context, id string) (Nodes, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return Nodes{}, err
	}
	props := obj(r.Model, "properties")
	var ids []string
	profile, _ := props["identityProfile"].(map[string]any)
	if kubelet, ok := profile["kubeletidentity"].(map[string]any); ok && str(kubelet["resourceId"]) != "" {
		ids = append(ids, str(kubelet["resourceId"]))
	}
	addons, _ := props["addonProfiles"].(map[string]any)
	for _, a := range addons {
		addon, _ := a.(map[string]any)
		ident, _ := addon["identity"].(map[string]any)
		if addon["enabled"] == true && str(ident["resourceId"]) != "" {
			ids = append(ids, str(ident["resourceId"]))
		}
	}
	return Nodes{TenantID: r.TenantID, IdentityIDs: ids}, nil
}

// Nodes are a cluster's tenant and the resource IDs of its nodes'
// identities.
type Nodes struct {
	TenantID    string
	IdentityIDs []string
}
