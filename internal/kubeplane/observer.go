package kubeplane

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/aks"
)

// ClusterSaved follows a change in ARM: a stopped cluster's server stops,
// a running one's nodes follow its pools.
func (p *Plane) ClusterSaved(id string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// A start in flight (az aks create's) read the cluster before this
		// change: wait it out, so that the shape check below sees what it
		// started with, rather than no server, and restarts it if need be.
		mu := p.lock(id)
		mu.Lock()
		//lint:ignore SA2001 an empty critical section on purpose: a wait
		mu.Unlock()
		spec, err := p.cfg.Clusters.KubeSpec(ctx, id)
		if err != nil {
			return
		}
		if !spec.Running {
			p.stop(id)
			return
		}
		if p.restartIfReshaped(ctx, spec) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		ep, ok := p.cfg.Supervisor.Running(id)
		if !ok {
			return
		}
		if err := p.reconcile(ctx, Kube{Base: ep.URL, HTTP: ep.Client}, spec); err != nil {
			p.log.Warn("cluster objects not in step with ARM", "cluster", id, "err", err)
		}
	}()
}

// shapeOf is what a server's flags, certificates and keys are made from:
// when it changes (Entra or Azure RBAC turned on, local accounts off, a
// new cluster CA, issuer keys rotated or retired), the server must restart.
func shapeOf(spec aks.KubeSpec) string {
	var ca [sha256.Size]byte
	if spec.CA != nil {
		ca = sha256.Sum256(spec.CA.PEM())
	}
	return fmt.Sprintf("%s|%t|%t|%t|%s|%x|%s", spec.FQDN, spec.Entra, spec.AzureRBAC, spec.ClientCA != nil, spec.Issuer, ca[:8], spec.KeysVersion)
}

// restartIfReshaped restarts a running server whose settings changed in
// ARM, and tells whether it did.
func (p *Plane) restartIfReshaped(ctx context.Context, spec aks.KubeSpec) bool {
	p.mu.Lock()
	l := p.live[strings.ToLower(spec.ID)]
	p.mu.Unlock()
	if l == nil || l.shape == shapeOf(spec) {
		return false
	}
	p.stop(spec.ID)
	if _, err := p.Ensure(ctx, spec.ID); err != nil {
		p.log.Warn("cluster API server did not restart with its new settings", "cluster", spec.ID, "err", err)
	}
	return true
}

// ClusterDeleted removes the cluster's server and its stored objects.
func (p *Plane) ClusterDeleted(id string) {
	p.stopControllers(id)
	p.mu.Lock()
	delete(p.reconciled, strings.ToLower(id))
	p.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		mu := p.lock(id)
		mu.Lock()
		defer mu.Unlock()
		p.closeCarried(id)
		if err := p.cfg.Supervisor.Delete(ctx, id); err != nil {
			p.log.Error("cluster API server data not removed", "cluster", id, "err", err)
		}
	}()
}

// ClusterStarted starts the cluster's server now (az aks start), not at
// its first use.
func (p *Plane) ClusterStarted(id string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := p.Ensure(ctx, id); err != nil && !errors.Is(err, ErrBuilding) {
			p.log.Warn("cluster API server did not start", "cluster", id, "err", err)
		}
	}()
}
