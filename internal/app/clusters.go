package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/admin"
	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/cloudprovider"
)

// clusterOps are the cluster actions only a running server has.
type clusterOps struct {
	aks   *aks.Service
	check *cloudprovider.Service
}

var errNeedsServer = errors.New("this command needs a running aksid: start `aksid serve` first")

// ClusterID turns "<group>/<name>" (in aksid's subscription) or a full
// managed cluster resource ID into the resource ID.
func ClusterID(ref string) (string, error) {
	if strings.HasPrefix(ref, "/") {
		return ref, nil
	}
	group, name, ok := strings.Cut(ref, "/")
	if !ok || group == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("name the cluster as <resource-group>/<name> or by its resource ID, not %q", ref)
	}
	return "/subscriptions/" + bootstrap.SubscriptionID + "/resourceGroups/" + group +
		"/providers/Microsoft.ContainerService/managedClusters/" + name, nil
}

// CheckCluster acts as the cluster's identity and reports what it may do.
func (o *Ops) CheckCluster(ctx context.Context, req cloudprovider.Request) ([]cloudprovider.Check, error) {
	if o.clusters == nil {
		return nil, errNeedsServer
	}
	checks, err := o.clusters.check.Check(ctx, req)
	if err != nil {
		return nil, err
	}
	results := make([]aks.CheckResult, 0, len(checks))
	for _, c := range checks {
		results = append(results, aks.CheckResult{Name: c.Name, OK: c.OK, Detail: c.Detail})
	}
	// The portal shows the last outcome, whoever ran it.
	if _, err := o.clusters.aks.RecordCheck(ctx, req.ClusterID, results); err != nil {
		return nil, err
	}
	return checks, nil
}

// LastClusterCheck is the cluster's last check, from the CLI or the portal.
func (o *Ops) LastClusterCheck(ctx context.Context, clusterID string) (aks.CheckRun, bool, error) {
	if o.clusters == nil {
		return aks.CheckRun{}, false, errNeedsServer
	}
	return o.clusters.aks.LastCheck(ctx, clusterID)
}

// AzureJSON is the cluster's /etc/kubernetes/azure.json.
func (o *Ops) AzureJSON(ctx context.Context, clusterID string) (map[string]any, error) {
	if o.clusters == nil {
		return nil, errNeedsServer
	}
	return o.clusters.aks.AzureJSON(ctx, clusterID)
}

// ServiceAccountToken mints a token as the cluster's kubelet would
// project it into a pod, without starting the cluster's API server
// (`kubectl create token` asks that server for the same kind of token).
func (o *Ops) ServiceAccountToken(ctx context.Context, req admin.SATokenRequest) (admin.SAToken, error) {
	if o.clusters == nil {
		return admin.SAToken{}, errNeedsServer
	}
	var d time.Duration
	if req.Duration != "" {
		var err error
		if d, err = clock.ParseDuration(req.Duration); err != nil {
			return admin.SAToken{}, azerr.New(azerr.Invalid, "InvalidParameter", "duration: %s", err.Error())
		}
	}
	tok, err := o.clusters.aks.ServiceAccountToken(ctx, aks.SATokenRequest{ClusterID: req.ClusterID, Namespace: req.Namespace,
		ServiceAccount: req.ServiceAccount, Audiences: req.Audiences, Duration: d})
	if err != nil {
		return admin.SAToken{}, err
	}
	model, err := o.clusters.aks.Get(ctx, req.ClusterID)
	if err != nil {
		return admin.SAToken{}, err
	}
	props, _ := model["properties"].(map[string]any)
	profile, _ := props["oidcIssuerProfile"].(map[string]any)
	issuer, _ := profile["issuerURL"].(string)
	return admin.SAToken{Token: tok, Issuer: issuer}, nil
}
