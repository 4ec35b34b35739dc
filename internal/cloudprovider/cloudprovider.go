// Package cloudprovider acts as a cluster's control plane the way cloud-provider-azure does: it signs in as the cluster's identity and calls Resource Manager with that token over HTTP, so RBAC, not a shortcut, decides what the cluster may do.
package cloudprovider

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/sts"
)

// armResource is the audience cloud-provider-azure asks tokens for.
const armResource = "https://management.core.windows.net/"

// DefaultEndpoint is Resource Manager's public URL; the HTTP client given
// to the service decides where it really goes.
const DefaultEndpoint = "https://management.azure.com"

// Clusters reads a cluster's control-plane identity and keeps its events.
type Clusters interface {
	ControlPlane(ctx context.Context, id string) (aks.ControlPlane, error)
	RecordEvent(ctx context.Context, clusterID string, e aks.Event) (aks.Event, error)
}

// Tokens signs in as a service principal or a managed identity.
type Tokens interface {
	SignIn(ctx context.Context, tenantID, clientID, secret, resource string) (*sts.TokenResponse, error)
	ManagedIdentityToken(ctx context.Context, req sts.ManagedIdentityRequest) (*sts.TokenResponse, error)
}

// Service runs the checks.
type Service struct {
	clusters Clusters
	tokens   Tokens
	http     *http.Client
	endpoint string

	// mu guards outcomes: each Service's last recorded load-balancer
	// outcome, so retries failing the same way add no cluster event.
	mu       sync.Mutex
	outcomes map[string]string
}

// Deps are the service's collaborators. HTTP reaches Resource Manager at
// Endpoint (DefaultEndpoint when empty).
type Deps struct {
	Clusters Clusters
	Tokens   Tokens
	HTTP     *http.Client
	Endpoint string
}

// New returns the service.
func New(d Deps) *Service {
	ep := d.Endpoint
	if ep == "" {
		ep = DefaultEndpoint
	}
	return &Service{clusters: d.Clusters, tokens: d.Tokens, http: d.HTTP, endpoint: strings.TrimRight(ep, "/")}
}

// Request names a cluster and the disks and registries it should be
// able to use besides its own node resource group and subnet.
type Request struct {
	ClusterID  string   `json:"clusterId"`
	Disks      []string `json:"disks,omitempty"`      // managed disk IDs to attach
	Registries []string `json:"registries,omitempty"` // container registry IDs to pull from
}

// Check is one thing the cluster's identity tried.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"` // "Code: message" from Azure when it failed
}

// check is a planned check: its name and what it does with a token.
type check struct {
	name string
	run  func(ctx context.Context, c *caller) error
	// kubelet marks what the nodes do with the kubelet identity (image
	// pulls) rather than the control plane.
	kubelet bool
}

// Check signs in as the cluster's control-plane identity and tries, as
// that identity, what the cloud provider does: ensure a public IP and a
// load balancer in the node resource group, update the cluster's subnet
// (when it has one), attach the given disks, pull from the given
// registries. Each outcome is recorded as a cluster event. When the
// identity cannot sign in (an expired secret), every check fails with
// Entra's refusal. The error is for a missing cluster or a broken store.
func (s *Service) Check(ctx context.Context, req Request) ([]Check, error) {
	cp, err := s.clusters.ControlPlane(ctx, req.ClusterID)
	if err != nil {
		return nil, err
	}
	plan := s.plan(cp, req)
	out := make([]Check, 0, len(plan))
	for _, p := range plan {
		who := cp
		if p.kubelet {
			who = kubeletOf(cp)
		}
		token, err := s.token(ctx, who)
		var refused *sts.Error
		if err != nil && !errors.As(err, &refused) {
			return nil, err
		}
		res := Check{Name: p.name, OK: true}
		if refused != nil {
			res.OK, res.Detail = false, refused.Error()
		} else if err := p.run(ctx, &caller{s: s, token: token}); err != nil {
			var ae *armError
			if !errors.As(err, &ae) {
				return nil, err
			}
			res.OK, res.Detail = false, ae.Error()
		}
		if err := s.record(ctx, cp.ID, res); err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// kubeletOf is the identity the nodes pull images with: the kubelet
// identity of a managed-identity cluster, else the service principal.
func kubeletOf(cp aks.ControlPlane) aks.ControlPlane {
	if !cp.Managed {
		return cp
	}
	props, _ := cp.Model["properties"].(map[string]any)
	ip, _ := props["identityProfile"].(map[string]any)
	k, _ := ip["kubeletidentity"].(map[string]any)
	if id, _ := k["clientId"].(string); id != "" {
		cp.ClientID, cp.ResourceID = id, k["resourceId"].(string)
		cp.PrincipalID, _ = k["objectId"].(string)
	}
	return cp
}

// token signs in as the control-plane identity: with the service
// principal's secret, or as the managed identity through the token
// service (what IMDS does on a node).
func (s *Service) token(ctx context.Context, cp aks.ControlPlane) (string, error) {
	var resp *sts.TokenResponse
	var err error
	if cp.Managed {
		resp, err = s.tokens.ManagedIdentityToken(ctx, sts.ManagedIdentityRequest{TenantID: cp.TenantID, ClientID: cp.ClientID,
			ResourceID: cp.ResourceID, Resource: armResource,
			Issuers: origin.Azure()})
	} else {
		resp, err = s.tokens.SignIn(ctx, cp.TenantID, cp.ClientID, cp.Secret, armResource)
	}
	if err != nil {
		return "", err
	}
	return resp.AccessToken, nil
}

func (s *Service) record(ctx context.Context, clusterID string, c Check) error {
	e := aks.Event{Type: "Normal", Reason: c.Name, Message: "succeeded as the cluster's identity"}
	if !c.OK {
		e.Type, e.Message = "Warning", c.Detail
	}
	_, err := s.clusters.RecordEvent(ctx, clusterID, e)
	return err
}
