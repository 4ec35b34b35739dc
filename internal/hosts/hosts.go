// Package hosts binds emulated compute hosts (virtual machines, a cluster's nodes) to the managed identities assigned to them, so the managed-identity endpoint hands a caller only its own host's identities.
package hosts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindHost   = "mi_host"        // lower(name) → Host
	kindSecret = "mi_host_secret" // hex(SHA-256(secret)) → lower(name), for App Service callers who send only the secret
	// DefaultName is the host of callers that name none.
	DefaultName = "aksid-default-vm"
	// hostsGroup holds the emulated virtual machines' resource IDs.
	hostsGroup = "aksid-hosts"
)

// Kinds of host.
const (
	KindVM      = "VirtualMachine"
	KindCluster = "ClusterNodes" // every node of one AKS cluster
)

// SystemIdentity is a host's system-assigned identity.
type SystemIdentity struct {
	ClientID    string `json:"clientId"`
	PrincipalID string `json:"principalId"`
}

// Host is an emulated machine and the identities assigned to it.
type Host struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// ResourceID is the VM's resource ID (carried as xms_mirid by its
	// system-assigned identity's tokens), or the cluster's.
	ResourceID   string          `json:"resourceId"`
	TenantID     string          `json:"tenantId"`
	System       *SystemIdentity `json:"systemAssigned,omitempty"`
	UserAssigned []string        `json:"userAssignedIdentities"`
	// Nonce labels the derived host secret, so a host made again under
	// the same name gets a new one; only the secret's hash is kept.
	Nonce        string `json:"nonce"`
	SecretSHA256 string `json:"secretSha256"`
}

// Identity is an identity a host may act as.
type Identity struct {
	TenantID    string
	ClientID    string
	PrincipalID string
	ResourceID  string // xms_mirid
}

// Deriver derives secret material from the master key.
type Deriver interface{ Derive(label string) []byte }

// Clusters tells which identities a cluster's nodes carry (the kubelet
// identity and the add-ons' — never the control plane's).
type Clusters interface {
	NodeIdentities(ctx context.Context, clusterID string) (aks.Nodes, error)
}

// Service keeps hosts.
type Service struct {
	st       store.Store
	dir      *directory.Directory
	msi      *msi.Service
	clusters Clusters
	keys     Deriver
	random   io.Reader
}

// Deps are the service's collaborators.
type Deps struct {
	Store      store.Store
	Directory  *directory.Directory
	Identities *msi.Service
	Clusters   Clusters
	Keys       Deriver
	Random     io.Reader // host nonces
}

// New returns the service.
func New(d Deps) *Service {
	return &Service{st: d.Store, dir: d.Directory, msi: d.Identities, clusters: d.Clusters, keys: d.Keys, random: d.Random}
}

// Refusals, each with the code the faces answer with.
var (
	ErrIdentityNotFound = errors.New("hosts: identity not found")
	ErrMultiple         = errors.New("hosts: multiple user-assigned identities")
	ErrUnauthenticated  = errors.New("hosts: unknown host or wrong host secret")
)

// VMSpec describes a virtual machine host.
type VMSpec struct {
	TenantID       string
	SubscriptionID string
	Name           string
	SystemAssigned bool
	UserAssigned   []string // resource IDs of user-assigned identities
}

// CreateVM makes a virtual machine host; a system-assigned identity gets
// a service principal of type ManagedIdentity named after the VM.
func (s *Service) CreateVM(ctx context.Context, spec VMSpec) (Host, error) {
	if err := CheckVMName(spec.Name); err != nil {
		return Host{}, err
	}
	if _, err := s.Get(ctx, spec.Name); err == nil {
		return Host{}, azerr.New(azerr.Conflict, "HostExists", "A host named '%s' exists already.", spec.Name)
	}
	h := Host{Name: spec.Name, Kind: KindVM, TenantID: spec.TenantID, UserAssigned: []string{},
		ResourceID: "/subscriptions/" + spec.SubscriptionID + "/resourceGroups/" + hostsGroup + "/providers/Microsoft.Compute/virtualMachines/" + spec.Name}
	for _, rid := range spec.UserAssigned {
		ident, err := s.msi.Get(ctx, rid)
		if err != nil {
			return Host{}, err
		}
		if !slices.ContainsFunc(h.UserAssigned, func(x string) bool { return strings.EqualFold(x, ident.ID) }) {
			h.UserAssigned = append(h.UserAssigned, ident.ID)
		}
	}
	if spec.SystemAssigned {
		sp, err := s.dir.CreateManagedIdentity(ctx, spec.TenantID, spec.Name, h.ResourceID)
		if err != nil {
			return Host{}, err
		}
		h.System = &SystemIdentity{ClientID: sp.AppID, PrincipalID: sp.ObjectID}
	}
	if err := s.create(ctx, &h); err != nil {
		if h.System != nil {
			_ = s.dir.DeleteManagedIdentity(ctx, spec.TenantID, h.System.ClientID) // undo the directory side
		}
		if errors.Is(err, store.ErrExists) {
			return Host{}, azerr.New(azerr.Conflict, "HostExists", "A host named '%s' exists already.", spec.Name)
		}
		return Host{}, err
	}
	return h, nil
}

// EnsureDefault makes the default host (with a system-assigned identity
// and no role) unless it exists.
func (s *Service) EnsureDefault(ctx context.Context, tenantID, subscriptionID string) (Host, error) {
	if h, err := s.Get(ctx, DefaultName); err == nil {
		return h, nil
	}
	h, err := s.CreateVM(ctx, VMSpec{TenantID: tenantID, SubscriptionID: subscriptionID, Name: DefaultName, SystemAssigned: true})
	if e, ok := azerr.As(err); ok && e.Kind == azerr.Conflict {
		return s.Get(ctx, DefaultName) // another replica made it first
	}
	return h, err
}

// EnsureCluster makes (once) the host that stands for every node of a
// cluster, named "<group>/<cluster>"; its identities follow the cluster.
func (s *Service) EnsureCluster(ctx context.Context, name, clusterID string) (Host, error) {
	if err := CheckName(name); err != nil {
		return Host{}, err
	}
	nodes, err := s.clusters.NodeIdentities(ctx, clusterID)
	if err != nil {
		return Host{}, err
	}
	tenantID := nodes.TenantID
	if h, err := s.Get(ctx, name); err == nil && strings.EqualFold(h.ResourceID, clusterID) {
		return h, nil
	}
	h := Host{Name: name, Kind: KindCluster, TenantID: tenantID, ResourceID: clusterID, UserAssigned: []string{}}
	if err := s.create(ctx, &h); err != nil {
		if errors.Is(err, store.ErrExists) {
			return s.Get(ctx, name)
		}
		return Host{}, err
	}
	return h, nil
}

func (s *Service) create(ctx context.Context, h *Host) error {
	nonce := make([]byte, 16)
	if _, err := io.ReadFull(s.random, nonce); err != nil {
		return err
	}
	h.Nonce = hex.EncodeToString(nonce)
	h.SecretSHA256 = hash(s.Secret(*h))
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := store.CreateJSON(tx, kindHost, strings.ToLower(h.Name), h); err != nil {
			return err
		}
		return tx.Put(kindSecret, h.SecretSHA256, []byte(strings.ToLower(h.Name)))
	})
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Secret is the host's secret (proxy password and IDENTITY_HEADER),
// derived from the master key so that only its hash is stored.
func (s *Service) Secret(h Host) string {
	return hex.EncodeToString(s.keys.Derive("mi-host/" + h.Nonce))
}

func notFound(name string) error {
	return azerr.New(azerr.NotFound, "HostNotFound", "No host named '%s'.", name)
}

// Get returns a host by name (case-insensitive).
func (s *Service) Get(ctx context.Context, name string) (Host, error) {
	var h Host
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindHost, strings.ToLower(name), &h)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Host{}, notFound(name)
	}
	return h, err
}

// List returns every host.
func (s *Service) List(ctx context.Context) ([]Host, error) {
	var out []Host
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Host](tx, kindHost, "")
		return err
	})
	return out, err
}

// Delete removes a host and its system-assigned identity.
func (s *Service) Delete(ctx context.Context, name string) error {
	h, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Delete(kindHost, strings.ToLower(h.Name)); err != nil {
			return err
		}
		if err := tx.Delete(kindSecret, h.SecretSHA256); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil || h.System == nil {
		return err
	}
	return s.dir.DeleteManagedIdentity(ctx, h.TenantID, h.System.ClientID)
}

// DeleteUnder removes the hosts whose resource (a VM, a cluster) lies at
// or under scope, when the scope goes: a cluster's nodes go with it.
func (s *Service) DeleteUnder(ctx context.Context, scope string) error {
	list, err := s.List(ctx)
	if err != nil {
		return err
	}
	at := strings.ToLower(strings.TrimRight(scope, "/"))
	for _, h := range list {
		id := strings.ToLower(h.ResourceID)
		if id != at && !strings.HasPrefix(id, at+"/") {
			continue
		}
		if err := s.Delete(ctx, h.Name); err != nil {
			return err
		}
	}
	return nil
}

// Authenticate returns the host a caller names with its secret (proxy
// credentials).
func (s *Service) Authenticate(ctx context.Context, name, secret string) (Host, error) {
	h, err := s.Get(ctx, name)
	if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
		return Host{}, ErrUnauthenticated
	}
	if err != nil {
		return Host{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hash(secret)), []byte(h.SecretSHA256)) != 1 {
		return Host{}, ErrUnauthenticated
	}
	return h, nil
}

// BySecret returns the host whose secret a caller sends alone
// (X-IDENTITY-HEADER): the secret's hash finds the host.
func (s *Service) BySecret(ctx context.Context, secret string) (Host, error) {
	var name []byte
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		name, err = tx.Get(kindSecret, hash(secret))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Host{}, ErrUnauthenticated
	}
	if err != nil {
		return Host{}, err
	}
	return s.Authenticate(ctx, string(name), secret)
}

// Identities lists what the host may act as now: its system-assigned
// identity first, then the user-assigned ones that still exist.
func (s *Service) Identities(ctx context.Context, h Host) ([]Identity, error) {
	var out []Identity
	if h.System != nil {
		out = append(out, Identity{TenantID: h.TenantID, ClientID: h.System.ClientID, PrincipalID: h.System.PrincipalID, ResourceID: h.ResourceID})
	}
	rids := h.UserAssigned
	if h.Kind == KindCluster {
		nodes, err := s.clusters.NodeIdentities(ctx, h.ResourceID)
		ids := nodes.IdentityIDs
		if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
			return out, nil // the cluster is gone, and its nodes with it
		}
		if err != nil {
			return nil, err
		}
		rids = ids
	}
	for _, rid := range rids {
		ident, err := s.msi.Get(ctx, rid)
		if e, ok := azerr.As(err); ok && e.Kind == azerr.NotFound {
			continue // deleted since it was assigned
		}
		if err != nil {
			return nil, err
		}
		p := ident.Properties
		out = append(out, Identity{TenantID: p.TenantID, ClientID: p.ClientID, PrincipalID: p.PrincipalID, ResourceID: ident.ID})
	}
	return out, nil
}

// Resolve picks the identity a request names among the host's, as IMDS
// does: none named means the system-assigned identity, else the only
// user-assigned one; several user-assigned ones must be named.
func (s *Service) Resolve(ctx context.Context, h Host, sel msi.Selector) (Identity, error) {
	ids, err := s.Identities(ctx, h)
	if err != nil {
		return Identity{}, err
	}
	for _, id := range ids {
		switch {
		case sel.ClientID != "" && strings.EqualFold(sel.ClientID, id.ClientID),
			sel.ObjectID != "" && strings.EqualFold(sel.ObjectID, id.PrincipalID),
			sel.ResourceID != "" && strings.EqualFold(strings.TrimRight(sel.ResourceID, "/"), id.ResourceID):
			return id, nil
		}
	}
	if sel != (msi.Selector{}) {
		return Identity{}, ErrIdentityNotFound
	}
	if h.System != nil {
		return ids[0], nil
	}
	switch len(ids) {
	case 0:
		return Identity{}, ErrIdentityNotFound
	case 1:
		return ids[0], nil
	default:
		return Identity{}, ErrMultiple
	}
}
