// Package aks holds AKS managed clusters and their identities: service principal or managed identities, credentials, node resource groups and kubeconfigs.
package aks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindCluster = "aks_cluster" // lower(id) → record
	// ResourceType is the ARM type of managed clusters.
	ResourceType = "Microsoft.ContainerService/managedClusters"
	// KubernetesVersion is the one version clusters run: that of the API
	// server aksid runs for each (tools/kube-apiserver), so ARM, the nodes
	// and `kubectl version` agree. A test holds it to the carried module.
	KubernetesVersion = "1.34.4"
	// maxSecretBytes is AKS's limit on a service principal secret.
	maxSecretBytes = 190
)

// Sealer encrypts the stored cluster secrets.
type Sealer interface {
	Seal(label string, plaintext []byte) ([]byte, error)
	Open(label string, sealed []byte) ([]byte, error)
}

// SignIn checks a service principal's credential by signing in as it.
type SignIn interface {
	SignInError(ctx context.Context, tenantID, clientID, secret string) error
}

// record is what the store keeps: the cluster as ARM shows it (a JSON
// object that round-trips every property the client sent) and its secrets.
type record struct {
	Model        map[string]any `json:"model"`
	TenantID     string         `json:"tenantId"`
	SealedSecret []byte         `json:"sealedSecret,omitempty"` // service principal secret
	// SealedAADSecret is a legacy Entra integration's server app secret.
	SealedAADSecret []byte `json:"sealedAadSecret,omitempty"`
	SystemID        string `json:"systemIdentityClientId,omitempty"`
	CAKey           []byte `json:"sealedCaKey"`
	CACert          []byte `json:"caCert"`
	// The cluster's OIDC issuer (workload identity): its GUID and sealed
	// signing key, once enabled.
	OIDCIssuerID string `json:"oidcIssuerId,omitempty"`
	OIDCKey      []byte `json:"sealedOidcKey,omitempty"`
	// SAKey signs a cluster's service-account tokens while it has no OIDC
	// issuer (sealed PKCS#8 ECDSA): kept, so tokens outlive a restart of
	// its API server, and made anew by az aks rotate-certs. Clusters an
	// older aksid made get one at their next change or start; until then
	// their servers make one per start.
	SAKey []byte `json:"sealedSaKey,omitempty"`
	// The issuer key a rotation replaced (its public key, PKIX DER): still
	// published and trusted until OIDCPreviousUntil, on aksid's clock.
	OIDCPreviousKey   []byte    `json:"oidcPreviousKey,omitempty"`
	OIDCPreviousUntil time.Time `json:"oidcPreviousUntil,omitzero"`
	// PowerSince is when the cluster was made, stopped or started: AKS's
	// refusals of a second stop or start name that operation's time.
	PowerSince time.Time `json:"powerSince,omitzero"`
}

// Service creates, reads, changes and deletes clusters.
type Service struct {
	st     store.Store
	clk    clock.Clock
	wall   clock.Clock // service-account tokens' iat/exp, the clients' frame
	dir    *directory.Directory
	msi    *msi.Service
	res    *resources.Service
	seal   Sealer
	signIn SignIn
	roles  Roles
	nodes  NodeResources
	obs    Observer
}

// Deps are the service's collaborators.
type Deps struct {
	Store      store.Store
	Clock      clock.Clock
	Directory  *directory.Directory
	Identities *msi.Service
	Resources  *resources.Service
	Sealer     Sealer
	SignIn     SignIn
	Roles      Roles         // optional: no grants without it
	Nodes      NodeResources // optional
	Wall       clock.Clock   // optional: the wall clock
}

// New returns the service.
func New(d Deps) *Service {
	wall := d.Wall
	if wall == nil {
		wall = clock.Wall{}
	}
	return &Service{st: d.Store, clk: d.Clock, wall: wall, dir: d.Directory, msi: d.Identities, res: d.Resources, seal: d.Sealer, signIn: d.SignIn,
		roles: d.Roles, nodes: d.Nodes}
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,61}[A-Za-z0-9]$|^[A-Za-z0-9]$`)

func clusterID(sub, group, name string) string {
	return "/subscriptions/" + sub + "/resourcegroups/" + group + "/providers/Microsoft.ContainerService/managedClusters/" + name
}

func invalid(code, format string, args ...any) error {
	return azerr.New(azerr.Invalid, code, format, args...)
}

// Get returns a cluster as ARM shows it.
func (s *Service) Get(ctx context.Context, id string) (map[string]any, error) {
	r, err := s.load(ctx, id)
	return shown(r), err
}

// shown is a cluster as ARM shows it: without aksid's own bookkeeping (a
// pool's count of node image upgrades, which names its nodes), and with
// the tenant AKS shows for a managed Entra integration that names none.
func shown(r record) map[string]any {
	m := r.Model
	props, ok := m["properties"].(map[string]any)
	if !ok {
		return m
	}
	out, p := maps.Clone(m), maps.Clone(props)
	if aad, ok := props["aadProfile"].(map[string]any); ok {
		p["aadProfile"] = maps.Clone(aad)
		defaultAADTenant(p, r.TenantID)
	}
	if pools, ok := props["agentPoolProfiles"].([]any); ok {
		list := make([]any, len(pools))
		for i, pool := range pools {
			list[i] = pool
			if pm, ok := pool.(map[string]any); ok {
				c := maps.Clone(pm)
				delete(c, "nodeImageUpgrades")
				list[i] = c
			}
		}
		p["agentPoolProfiles"] = list
	}
	out["properties"] = p
	return out
}

func (s *Service) load(ctx context.Context, id string) (record, error) {
	var r record
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindCluster, strings.ToLower(id), &r)
	})
	if errors.Is(err, store.ErrNotFound) {
		return record{}, azerr.ResourceNotFound(ResourceType, id)
	}
	return r, err
}

func (s *Service) save(ctx context.Context, id string, r record) error {
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := store.PutJSON(tx, kindCluster, strings.ToLower(id), r); err != nil {
			return err
		}
		if r.OIDCIssuerID != "" {
			if err := tx.Put(kindOIDCIssuer, strings.ToLower(r.TenantID+"/"+r.OIDCIssuerID), []byte(id)); err != nil {
				return err
			}
		}
		loc, _ := r.Model["location"].(string)
		tags, _ := r.Model["tags"].(map[string]any)
		return resources.IndexResource(tx, resources.GenericResource{ID: r.Model["id"].(string), Name: r.Model["name"].(string),
			Type: ResourceType, Location: loc, Tags: stringMap(tags)})
	})
	if err == nil && s.obs != nil {
		s.obs.ClusterSaved(str(r.Model["id"]))
	}
	return err
}

// List returns the clusters under scope.
func (s *Service) List(ctx context.Context, scope string) ([]map[string]any, error) {
	out := []map[string]any{}
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		items, err := store.ListJSON[record](tx, kindCluster, strings.ToLower(strings.TrimRight(scope, "/"))+"/")
		if err != nil {
			return err
		}
		for _, r := range items {
			out = append(out, shown(r))
		}
		return nil
	})
	return out, err
}

func stringMap(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// fqdn is AKS's API server name: dnsPrefix, a hash, the region's zone.
func fqdn(dnsPrefix, id, location string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(id)))
	return fmt.Sprintf("%s-%s.hcp.%s.azmk8s.io", strings.ToLower(dnsPrefix), hex.EncodeToString(sum[:4]), location)
}

// obj returns m[key] as an object, creating it when absent.
func obj(m map[string]any, key string) map[string]any {
	if v, ok := m[key].(map[string]any); ok {
		return v
	}
	v := map[string]any{}
	m[key] = v
	return v
}
