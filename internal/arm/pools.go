package arm

import (
	"context"
	"net/http"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
)

// Pools is the agent pools of Microsoft.ContainerService's clusters.
type Pools interface {
	Pools(ctx context.Context, clusterID string) ([]map[string]any, error)
	Pool(ctx context.Context, clusterID, name string) (map[string]any, error)
	PutPool(ctx context.Context, clusterID, name string, body map[string]any) (aks.PutResult, error)
	DeletePool(ctx context.Context, clusterID, name string) error
	UpgradeNodeImage(ctx context.Context, clusterID, name string) error
}

// poolID is …/managedClusters/{name}/agentPools/{pool} of the path.
func poolID(c *call) string { return clusterID(c) + "/agentPools/" + c.segs[9] }

// listPools is `az aks nodepool list`: one page, as AKS answers it.
func (h *Handler) listPools(c *call) error {
	list, err := h.aks.Pools(c.ctx(), c.id)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]any{"value": list})
}

func (h *Handler) getPool(c *call) error {
	return c.reply(h.aks.Pool(c.ctx(), clusterID(c), c.segs[9]))
}

// poolUpgradeProfile is `az aks nodepool get-upgrades`.
func (h *Handler) poolUpgradeProfile(c *call) error {
	return c.reply(h.aks.PoolUpgradeProfile(c.ctx(), clusterID(c), c.segs[9]))
}

// putPool is `az aks nodepool add`, `scale` and `update`: a long-running
// operation on the pool, one at a time per cluster.
func (h *Handler) putPool(c *call) error {
	if err := h.registered(c, aksNamespace); err != nil {
		return err
	}
	var body map[string]any
	if err := decode(c, &body); err != nil {
		return err
	}
	cluster := clusterID(c)
	m, err := h.aks.Get(c.ctx(), cluster)
	if err != nil {
		return err
	}
	loc, _ := m["location"].(string)
	var res aks.PutResult
	return h.poolOperation(c, cluster, loc, func() (err error) {
		res, err = h.aks.PutPool(c.ctx(), cluster, c.segs[9], body)
		return err
	}, func() (int, any) {
		if res.Created {
			return http.StatusCreated, res.Model
		}
		return http.StatusOK, res.Model
	})
}

// deletePool is `az aks nodepool delete`.
func (h *Handler) deletePool(c *call) error {
	cluster := clusterID(c)
	m, err := h.aks.Get(c.ctx(), cluster)
	if err != nil {
		return err
	}
	if _, err := h.aks.Pool(c.ctx(), cluster, c.segs[9]); azerr.Is(err, azerr.NotFound) {
		return c.empty(http.StatusNoContent)
	} else if err != nil {
		return err
	}
	loc, _ := m["location"].(string)
	return h.poolOperation(c, cluster, loc, func() error { return h.aks.DeletePool(c.ctx(), cluster, c.segs[9]) }, accepted)
}

// upgradeNodeImage is `az aks nodepool upgrade --node-image-only`.
func (h *Handler) upgradeNodeImage(c *call) error {
	cluster := clusterID(c)
	m, err := h.aks.Get(c.ctx(), cluster)
	if err != nil {
		return err
	}
	loc, _ := m["location"].(string)
	return h.poolOperation(c, cluster, loc, func() error { return h.aks.UpgradeNodeImage(c.ctx(), cluster, c.segs[9]) }, accepted)
}

// poolOperation is clusterOperation for a pool: the cluster is busy
// while it runs.
func (h *Handler) poolOperation(c *call, cluster, location string, work func() error, answer answer) error {
	if err := h.aks.Begin(c.ctx(), cluster); err != nil {
		return err
	}
	defer h.aks.End(context.WithoutCancel(c.ctx()), cluster)
	return h.operate(c, aksNamespace, location, c.id, work, answer)
}
