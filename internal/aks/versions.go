package aks

import (
	"context"
	"strings"
)

// minor is KubernetesVersion's minor version ("1.34").
var minor = KubernetesVersion[:strings.LastIndexByte(KubernetesVersion, '.')]

// checkVersion is the version a client's kubernetesVersion or
// orchestratorVersion asks for: "" (the default), the minor ("1.34") or
// the patch itself; any other is refused as AKS refuses a version its
// region does not offer.
func checkVersion(cluster, v string) (string, error) {
	if v == "" || v == minor || v == KubernetesVersion {
		return KubernetesVersion, nil
	}
	return "", invalid("K8sVersionNotSupported", "Managed cluster %s is on version %s which is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region. For more information, please check https://aka.ms/supported-version-list", cluster, v)
}

// checkVersions checks a new cluster's version and its pools', and sets
// the cluster's.
func checkVersions(cluster string, props map[string]any) error {
	v, err := checkVersion(cluster, str(props["kubernetesVersion"]))
	if err != nil {
		return err
	}
	props["kubernetesVersion"] = v
	list, _ := props["agentPoolProfiles"].([]any)
	for _, p := range list {
		if p, ok := p.(map[string]any); ok {
			if _, err := checkVersion(cluster, str(p["orchestratorVersion"])); err != nil {
				return err
			}
		}
	}
	return nil
}

// upgradeVersion applies a changed version in an update: want (as sent)
// against cur (as stored); the same version, however spelt, changes
// nothing, so clusters made at an older version stay as they are until
// upgraded.
func upgradeVersion(cluster string, want any, cur string) (string, error) {
	v, ok := want.(string)
	if !ok || v == "" || v == cur || strings.HasPrefix(cur, v+".") {
		return cur, nil
	}
	return checkVersion(cluster, v)
}

// Orchestrators is `az aks get-versions` as az 2.45 asks it
// (locations/{location}/orchestrators, the 2019-04-01 shape).
func Orchestrators(sub, location string) map[string]any {
	return map[string]any{
		"id":   "/subscriptions/" + sub + "/providers/Microsoft.ContainerService/locations/" + location + "/orchestrators",
		"name": "default", "type": "Microsoft.ContainerService/locations/orchestrators",
		"properties": map[string]any{"orchestrators": []any{map[string]any{
			"orchestratorType": "Kubernetes", "orchestratorVersion": KubernetesVersion, "default": true, "isPreview": false, "upgrades": nil}}},
	}
}

// KubernetesVersions is get-versions as newer clients ask it
// (locations/{location}/kubernetesVersions).
func KubernetesVersions() map[string]any {
	return map[string]any{"values": []any{map[string]any{
		"version": minor, "isDefault": true, "isPreview": false,
		"capabilities":  map[string]any{"supportPlan": []string{"KubernetesOfficial", "AKSLongTermSupport"}},
		"patchVersions": map[string]any{KubernetesVersion: map[string]any{"upgrades": []string{}}},
	}}}
}

// UpgradeProfile is `az aks get-upgrades`: the versions the control plane
// and each pool run and may move to (the one version aksid runs, when
// they are on another).
func (s *Service) UpgradeProfile(ctx context.Context, id string) (map[string]any, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	props := obj(r.Model, "properties")
	upgrades := func(v string) any {
		if v == KubernetesVersion {
			return nil
		}
		return []any{map[string]any{"kubernetesVersion": KubernetesVersion, "isPreview": false}}
	}
	cpVersion := str(props["currentKubernetesVersion"])
	var profiles []any
	for _, p := range pools(r.Model) {
		p, _ := p.(map[string]any)
		v := str(p["currentOrchestratorVersion"])
		profiles = append(profiles, map[string]any{"name": str(p["name"]), "kubernetesVersion": v, "osType": "Linux", "upgrades": upgrades(v)})
	}
	return map[string]any{
		"id": str(r.Model["id"]) + "/upgradeProfiles/default", "name": "default", "type": ResourceType + "/upgradeProfiles",
		"properties": map[string]any{
			"controlPlaneProfile": map[string]any{"kubernetesVersion": cpVersion, "osType": "Linux", "upgrades": upgrades(cpVersion)},
			"agentPoolProfiles":   profiles,
		},
	}, nil
}

// PoolUpgradeProfile is what one pool may move to (`az aks nodepool
// get-upgrades`): the one version aksid runs, when it is on another, and
// the node image its next image upgrade brings (each gives new nodes).
func (s *Service) PoolUpgradeProfile(ctx context.Context, clusterID, name string) (map[string]any, error) {
	r, p, err := s.loadPool(ctx, clusterID, name)
	if err != nil {
		return nil, err
	}
	v := str(p["currentOrchestratorVersion"])
	var upgrades any
	if v != KubernetesVersion {
		upgrades = []any{map[string]any{"kubernetesVersion": KubernetesVersion, "isPreview": false}}
	}
	rolls, _ := p["nodeImageUpgrades"].(float64)
	return map[string]any{
		"id": str(r.Model["id"]) + "/agentPools/" + str(p["name"]) + "/upgradeProfiles/default", "name": "default",
		"type": ResourceType + "/agentPools/upgradeProfiles",
		"properties": map[string]any{"kubernetesVersion": v, "osType": "Linux", "upgrades": upgrades,
			"latestNodeImageVersion": nodeImage(int(rolls) + 1)},
	}, nil
}
