package app

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/arm"
	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/hosts"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/netres"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/server"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/sts"
	"github.com/google/uuid"
)

// armParts are the Resource Manager face and the domains behind it.
type armParts struct {
	rbac  *rbac.Service
	res   *resources.Service
	msi   *msi.Service
	aks   *aks.Service
	net   *netres.Service
	hosts *hosts.Service
}

// signIn checks a cluster's service principal by signing in as it for ARM.
type signIn struct{ s *sts.Service }

func (a signIn) SignInError(ctx context.Context, tenantID, clientID, secret string) error {
	_, err := a.s.SignIn(ctx, tenantID, clientID, secret, "https://management.core.windows.net/")
	return err
}

// registerARM builds RBAC, resources and the ARM face and routes them.
func registerARM(ctx context.Context, rt *server.Router, cfg Config, st store.Store, vclock clock.Clock, dir *directory.Directory,
	keys *sts.Keys, log *slog.Logger, kr keyMaterial, svc *sts.Service, authzObs func(allowed bool, err error, d time.Duration)) (*armParts, error) {
	rb, err := rbac.New(ctx, st, vclock, rbac.Options{Propagation: cfg.RBACPropagation})
	if err != nil {
		return nil, err
	}
	if cfg.Store != "" {
		// Replicas: an assignment made on one counts on the others at once.
		rb.FollowOtherWriters()
	}
	delay := cfg.FeatureDelay
	if delay <= 0 {
		delay = 5 * time.Minute
	}
	res := resources.New(st, vclock, delay)
	identities := msi.New(st, dir)
	network := netres.New(st, vclock, uuid.NewString)
	clusters := aks.New(aks.Deps{Store: st, Clock: vclock, Directory: dir, Identities: identities, Resources: res,
		Sealer: kr, SignIn: signIn{svc}, Roles: grants{rb}, Nodes: network})
	hostSvc := hosts.New(hosts.Deps{Store: st, Directory: dir, Identities: identities, Clusters: clusters, Keys: kr, Random: rand.Reader})
	// Deleting a group or a cluster cascades through every owner, whichever face asks.
	scopes := res.WithOwners(clusters, identities, network, hostSvc, rb)
	h := arm.New(arm.Deps{
		Validator: authn.New(keys, clock.Wall{}), Authz: authorizer{rb, authzObs}, Groups: dir, Tenants: dir,
		Resources: scopes, Roles: rb, Identities: identities, Clusters: clusters, Network: network, Principals: principals{dir}, Log: log,
	})
	for _, root := range arm.Roots {
		rt.Handle(root, server.FaceARM, h)
	}
	rt.HandleFace(server.FaceARM, h)
	return &armParts{rbac: rb, res: scopes, msi: identities, aks: clusters, net: network, hosts: hostSvc}, nil
}

// keyMaterial seals cluster secrets and derives host secrets (the keyring).
type keyMaterial interface {
	aks.Sealer
	hosts.Deriver
}

// authorizer adapts rbac.Service to the ARM face's questions.
// authorizer answers the ARM face's RBAC questions, timing each decision
// for the metrics.
type authorizer struct {
	s       *rbac.Service
	observe func(allowed bool, err error, d time.Duration)
}

func (a authorizer) Authorize(ctx context.Context, ids []string, action, scope string) (bool, error) {
	start := time.Now()
	d, err := a.s.Authorize(ctx, ids, action, scope)
	if a.observe != nil {
		a.observe(d.Allowed, err, time.Since(start))
	}
	return d.Allowed, err
}

func (a authorizer) HasAccessUnder(ctx context.Context, ids []string, scope string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	list, err := a.s.ListAssignments(ctx, scope, rbac.AssignmentFilter{AssignedTo: ids[0], Groups: ids[1:]})
	return len(list) > 0, err
}

// principals answers whether a role assignment's principal exists.
type principals struct{ d *directory.Directory }

func (p principals) PrincipalExists(ctx context.Context, tenantID, objectID string) (bool, error) {
	_, err := p.d.Object(ctx, tenantID, objectID)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, directory.ErrObjectNotFound) {
		return false, nil
	}
	return false, err
}

// contributorRole is the built-in Contributor role's GUID.
const contributorRole = "b24988ac-6180-42a0-ab88-20f7382dd24c"

// grants gives a cluster identity the roles AKS gives it and answers what
// it may do.
type grants struct{ s *rbac.Service }

func (g grants) Allowed(ctx context.Context, principalIDs []string, action, scope string) (bool, error) {
	d, err := g.s.Authorize(ctx, principalIDs, action, scope)
	return d.Allowed, err
}

func (g grants) GrantContributor(ctx context.Context, scope, principalID string) error {
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(scope), "/subscriptions/"), "/")[0]
	_, err := g.s.CreateAssignment(ctx, rbac.AssignmentSpec{Name: uuid.NewString(), Scope: scope,
		RoleDefinitionID: "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + contributorRole,
		PrincipalID:      principalID, PrincipalType: "ServicePrincipal",
		Description: "AKS: the cluster identity manages its node resource group"})
	if rbac.IsCode(err, rbac.CodeRoleAssignmentExists) {
		return nil
	}
	return err
}
