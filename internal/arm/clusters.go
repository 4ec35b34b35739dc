package arm

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/resources"
)

// Clusters is the Microsoft.ContainerService resource provider.
type Clusters interface {
	Put(ctx context.Context, req aks.PutRequest) (aks.PutResult, error)
	Get(ctx context.Context, id string) (map[string]any, error)
	List(ctx context.Context, scope string) ([]map[string]any, error)
	ResetServicePrincipal(ctx context.Context, id, clientID, secret string) error
	ResetAAD(ctx context.Context, id string, profile map[string]any) error
	SetPowerState(ctx context.Context, id string, running bool) error
	RotateCertificates(ctx context.Context, id string) error
	RotateServiceAccountSigningKeys(ctx context.Context, id string) error
	RunCommand(ctx context.Context, id string, req aks.RunCommandRequest) error
	Begin(ctx context.Context, id string) error
	End(ctx context.Context, id string)
	UserKubeconfig(ctx context.Context, id string, o aks.KubeconfigOptions) ([]byte, error)
	AdminKubeconfig(ctx context.Context, id string) ([]byte, error)
	UpgradeProfile(ctx context.Context, id string) (map[string]any, error)
	PoolUpgradeProfile(ctx context.Context, clusterID, name string) (map[string]any, error)
	Pools
}

// clusterID is …/managedClusters/{name} of the path.
func clusterID(c *call) string { return inGroup(c, "Microsoft.ContainerService/managedClusters") }

// listClusters serves …/managedClusters at subscription or group scope.
func (h *Handler) listClusters(c *call) error {
	list, err := h.aks.List(c.ctx(), listScope(c))
	return readable(h, c, actAKS+"read", list, err, func(m map[string]any) string { return m["id"].(string) })
}

func (h *Handler) getCluster(c *call) error { return c.reply(h.aks.Get(c.ctx(), c.id)) }

func (h *Handler) putCluster(c *call) error {
	if err := h.registered(c, aksNamespace); err != nil {
		return err
	}
	var body map[string]any
	if err := decode(c, &body); err != nil {
		return err
	}
	if err := aks.CheckBody(body); err != nil { // before an operation starts
		return err
	}
	loc, _ := body["location"].(string)
	var res aks.PutResult
	return h.clusterOperation(c, loc, func() (err error) {
		res, err = h.aks.Put(c.ctx(), aks.PutRequest{TenantID: c.p.TenantID, Sub: c.subID(), Group: c.group.Name, Name: c.segs[7], Body: body})
		return err
	}, func() (int, any) {
		if res.Created {
			return http.StatusCreated, res.Model
		}
		return http.StatusOK, res.Model
	})
}

func (h *Handler) deleteCluster(c *call) error {
	m, err := h.aks.Get(c.ctx(), c.id)
	if azerr.Is(err, azerr.NotFound) {
		return c.empty(http.StatusNoContent)
	}
	if err != nil {
		return err
	}
	loc, _ := m["location"].(string)
	// Deleting a cluster is deleting a scope: its node resource
	// group, its nodes and the role assignments on it go too.
	return h.clusterOperation(c, loc, func() error { return h.res.DeleteScope(c.ctx(), c.id) }, accepted)
}

// clusterOperation runs work as a long-running operation on the path's
// cluster, one at a time.
func (h *Handler) clusterOperation(c *call, location string, work func() error, answer answer) error {
	if err := h.aks.Begin(c.ctx(), c.id); err != nil {
		return err
	}
	defer h.aks.End(context.WithoutCancel(c.ctx()), c.id)
	return h.operate(c, aksNamespace, location, c.id, work, answer)
}

// The POST actions az uses.

func (h *Handler) userCredential(c *call) error {
	o := aks.KubeconfigOptions{Format: c.r.URL.Query().Get("format")}
	if org := origin.FromContext(c.ctx()); !org.ViaProxy() {
		// Reached directly: kubelogin must be told where aksid is.
		o.AuthorityHost = org.Base + "/"
	}
	kc, err := h.aks.UserKubeconfig(c.ctx(), c.id, o)
	return kubeconfigs(c, "clusterUser", kc, err)
}

func (h *Handler) adminCredential(c *call) error {
	kc, err := h.aks.AdminKubeconfig(c.ctx(), c.id)
	return kubeconfigs(c, "clusterAdmin", kc, err)
}

func kubeconfigs(c *call, name string, kc []byte, err error) error {
	return c.reply(map[string]any{"kubeconfigs": []any{map[string]any{"name": name, "value": base64.StdEncoding.EncodeToString(kc)}}}, err)
}

func (h *Handler) resetServicePrincipal(c *call) error {
	var body struct {
		ClientID string `json:"clientId"`
		Secret   string `json:"secret"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	return h.clusterOperation(c, c.group.Location, func() error {
		return h.aks.ResetServicePrincipal(c.ctx(), c.id, body.ClientID, body.Secret)
	}, accepted)
}

func (h *Handler) resetAAD(c *call) error {
	var body map[string]any
	if err := decode(c, &body); err != nil {
		return err
	}
	return h.clusterOperation(c, c.group.Location, func() error { return h.aks.ResetAAD(c.ctx(), c.id, body) }, accepted)
}

// stopCluster and startCluster are az aks stop and start: long-running,
// 202 with the polling headers, in the cluster's region.
func (h *Handler) stopCluster(c *call) error  { return h.setPower(c, false) }
func (h *Handler) startCluster(c *call) error { return h.setPower(c, true) }

func (h *Handler) setPower(c *call, running bool) error {
	return h.clusterAction(c, func(ctx context.Context, id string) error { return h.aks.SetPowerState(ctx, id, running) })
}

// rotateCertificates is az aks rotate-certs and rotateSigningKeys az aks
// oidc-issuer rotate-signing-keys: long-running, in the cluster's region.
func (h *Handler) rotateCertificates(c *call) error {
	return h.clusterAction(c, h.aks.RotateCertificates)
}
func (h *Handler) rotateSigningKeys(c *call) error {
	return h.clusterAction(c, h.aks.RotateServiceAccountSigningKeys)
}

// clusterAction runs act on the path's cluster as a long-running
// operation in its region.
func (h *Handler) clusterAction(c *call, act func(ctx context.Context, id string) error) error {
	m, err := h.aks.Get(c.ctx(), c.id)
	if err != nil {
		return err
	}
	loc, _ := m["location"].(string)
	return h.clusterOperation(c, loc, func() error { return act(c.ctx(), c.id) }, accepted)
}

// runCommand is az aks command invoke, which aksid's clusters cannot
// run: the domain's refusal says why (aks.RunCommand).
func (h *Handler) runCommand(c *call) error {
	var body aks.RunCommandRequest
	if err := decode(c, &body); err != nil {
		return err
	}
	return h.aks.RunCommand(c.ctx(), c.id, body)
}

// getVersions is `az aks get-versions`: locations/{location}/orchestrators
// (az 2.45) or …/kubernetesVersions (newer clients).
func (h *Handler) getVersions(c *call) error {
	loc, err := resources.NormalizeLocation(c.segs[5])
	if err != nil {
		return azerr.New(azerr.Invalid, "LocationNotAvailableForResourceType",
			"The provided location '%s' is not available for resource type 'Microsoft.ContainerService/locations'.", c.segs[5])
	}
	if c.low[6] == "orchestrators" {
		return c.json(http.StatusOK, aks.Orchestrators(c.subID(), loc))
	}
	return c.json(http.StatusOK, aks.KubernetesVersions())
}

// upgradeProfile is `az aks get-upgrades`.
func (h *Handler) upgradeProfile(c *call) error { return c.reply(h.aks.UpgradeProfile(c.ctx(), c.id)) }
