package aks

import (
	"context"
	"maps"
	"regexp"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
)

// PoolType is the ARM type of an agent pool.
const PoolType = ResourceType + "/agentPools"

// poolName is what AKS accepts for a Linux pool's name.
var poolName = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// Pools lists a cluster's agent pools as ARM shows them (`az aks nodepool list`).
func (s *Service) Pools(ctx context.Context, clusterID string) ([]map[string]any, error) {
	r, err := s.load(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, p := range pools(r.Model) {
		out = append(out, poolView(r.Model, p))
	}
	return out, nil
}

// Pool is one agent pool (`az aks nodepool show`).
func (s *Service) Pool(ctx context.Context, clusterID, name string) (map[string]any, error) {
	r, p, err := s.loadPool(ctx, clusterID, name)
	if err != nil {
		return nil, err
	}
	return poolView(r.Model, p), nil
}

// loadPool reads the cluster and its pool name, which must exist.
func (s *Service) loadPool(ctx context.Context, clusterID, name string) (record, map[string]any, error) {
	r, err := s.load(ctx, clusterID)
	if err != nil {
		return record{}, nil, err
	}
	_, p := findPool(r.Model, name)
	if p == nil {
		return record{}, nil, poolNotFound(r.Model, name)
	}
	return r, p, nil
}

// PutPool adds an agent pool (`az aks nodepool add`) or changes one's
// node count, mode, labels or taints (`scale`, `update`); the cluster's
// nodes follow.
func (s *Service) PutPool(ctx context.Context, clusterID, name string, body map[string]any) (PutResult, error) {
	if err := CheckBody(body); err != nil {
		return PutResult{}, err
	}
	r, err := s.load(ctx, clusterID)
	if err != nil {
		return PutResult{}, err
	}
	want := obj(body, "properties")
	props := obj(r.Model, "properties")
	_, cur := findPool(r.Model, name)
	if err := refuseStopped(r.Model, poolAction(cur, want)); err != nil {
		return PutResult{}, err
	}
	created := cur == nil
	if created {
		if err := checkNewPool(name, want); err != nil {
			return PutResult{}, err
		}
		if len(pools(r.Model)) >= 100 {
			return PutResult{}, invalid("InvalidParameter", "A cluster can have at most 100 agent pools.")
		}
		version, err := upgradeVersion(str(r.Model["name"]), want["orchestratorVersion"], str(props["currentKubernetesVersion"]))
		if err != nil {
			return PutResult{}, err
		}
		cur = map[string]any{"name": name}
		for _, k := range []string{"vmSize", "osDiskSizeGB", "nodeLabels", "nodeTaints", "availabilityZones", "vnetSubnetID", "maxPods", "tags"} {
			if v, ok := want[k]; ok {
				cur[k] = v
			}
		}
		setDefault(cur, "vmSize", "Standard_DS2_v2")
		setDefault(cur, "osDiskSizeGB", 128.0)
		cur["type"], cur["osType"], cur["osSKU"] = "VirtualMachineScaleSets", "Linux", "Ubuntu"
		cur["orchestratorVersion"], cur["currentOrchestratorVersion"] = version, version
		cur["nodeImageVersion"], cur["provisioningState"], cur["powerState"] = nodeImage(0), "Succeeded", map[string]any{"code": "Running"}
		cur["mode"], cur["count"] = "User", 3.0
		poolDefaults(props, cur)
	} else if v, ok := want["vmSize"].(string); ok && v != "" && !strings.EqualFold(v, str(cur["vmSize"])) {
		return PutResult{}, invalid("PropertyChangeNotAllowed", "Changing property 'vmSize' is not allowed.")
	} else {
		v, err := upgradeVersion(str(r.Model["name"]), want["orchestratorVersion"], str(cur["currentOrchestratorVersion"]))
		if err != nil {
			return PutResult{}, err
		}
		cur["orchestratorVersion"], cur["currentOrchestratorVersion"] = v, v
	}
	if err := takeModeAndCount(cur, want); err != nil {
		return PutResult{}, err
	}
	if !created {
		if err := setPoolPower(r.Model, cur, want); err != nil {
			return PutResult{}, err
		}
	}
	for _, k := range []string{"nodeLabels", "nodeTaints", "tags"} {
		if v, ok := want[k]; ok && !created {
			cur[k] = v
		}
	}
	if created {
		props["agentPoolProfiles"] = append(pools(r.Model), cur)
	} else if err := keepsSystemPool(r.Model); err != nil {
		return PutResult{}, err
	}
	if err := s.save(ctx, clusterID, r); err != nil {
		return PutResult{}, err
	}
	return PutResult{Model: poolView(r.Model, cur), Created: created}, nil
}

// DeletePool removes an agent pool with its nodes; a missing one is no
// error. The last system pool stays, as in AKS.
func (s *Service) DeletePool(ctx context.Context, clusterID, name string) error {
	r, err := s.load(ctx, clusterID)
	if err != nil {
		return err
	}
	i, p := findPool(r.Model, name)
	if p == nil {
		return nil
	}
	if err := refuseStopped(r.Model, "deleting agent pool"); err != nil {
		return err
	}
	list := pools(r.Model)
	obj(r.Model, "properties")["agentPoolProfiles"] = append(list[:i:i], list[i+1:]...)
	if err := keepsSystemPool(r.Model); err != nil {
		return err
	}
	return s.save(ctx, clusterID, r)
}

// UpgradeNodeImage moves one pool to the next node image (`az aks
// nodepool upgrade --node-image-only`, and `az aks upgrade
// --node-image-only` for each pool); its nodes are replaced.
func (s *Service) UpgradeNodeImage(ctx context.Context, clusterID, name string) error {
	r, p, err := s.loadPool(ctx, clusterID, name)
	if err != nil {
		return err
	}
	if err := refuseStopped(r.Model, "upgrading node image"); err != nil {
		return err
	}
	bumpNodeImage(p)
	return s.save(ctx, clusterID, r)
}

// checkNewPool refuses a new pool as AKS does: its name, and Windows
// (aksid emulates Linux nodes only).
func checkNewPool(name string, want map[string]any) error {
	if !poolName.MatchString(name) {
		return invalid("InvalidParameter", "The agent pool name '%s' is invalid: it must start with a lowercase letter and contain only lowercase letters and numbers, at most 12 of them.", name)
	}
	if strings.EqualFold(str(want["osType"]), "Windows") {
		return invalid("InvalidParameter", "Windows agent pools are not emulated by aksid: its nodes are Linux nodes.")
	}
	return nil
}

// takeModeAndCount sets a pool's mode and node count from want: System or
// User; 0 to 1000 nodes, at least one in a system pool.
func takeModeAndCount(pool, want map[string]any) error {
	if m := str(want["mode"]); m != "" {
		if !strings.EqualFold(m, "System") && !strings.EqualFold(m, "User") {
			return invalid("InvalidParameter", "The agent pool mode '%s' is invalid: it must be System or User.", m)
		}
		pool["mode"] = strings.ToUpper(m[:1]) + strings.ToLower(m[1:])
	}
	if n, ok := want["count"].(float64); ok {
		if n < 0 || n > 1000 || n != float64(int(n)) {
			return invalid("InvalidParameter", "The agent pool count %v is invalid: it must be a whole number from 0 to 1000.", n)
		}
		pool["count"] = n
	}
	if pool["mode"] == "System" && pool["count"] == 0.0 {
		return invalid("InvalidParameter", "A system agent pool must have at least one node.")
	}
	return nil
}

// checkPools refuses a new cluster's pools as AKS refuses them; a pool's
// mode is System unless it says otherwise, and one must be.
func checkPools(props map[string]any) error {
	list, _ := props["agentPoolProfiles"].([]any)
	seen := map[string]bool{}
	for _, p := range list {
		pool, ok := p.(map[string]any)
		if !ok {
			return invalid("InvalidParameter", "Each of agentPoolProfiles must be an object.")
		}
		name := str(pool["name"])
		if err := checkNewPool(name, pool); err != nil {
			return err
		}
		if seen[name] {
			return invalid("InvalidParameter", "The agent pool name '%s' is given more than once.", name)
		}
		seen[name] = true
		probe := map[string]any{"mode": "System", "count": 3.0}
		if err := takeModeAndCount(probe, pool); err != nil {
			return err
		}
	}
	if len(list) > 0 {
		return keepsSystemPool(map[string]any{"properties": map[string]any{"agentPoolProfiles": systemModes(list)}})
	}
	return nil
}

// systemModes is the pools with their modes as they will be (System by
// default), for keepsSystemPool.
func systemModes(list []any) []any {
	out := make([]any, 0, len(list))
	for _, p := range list {
		pool, _ := p.(map[string]any)
		mode := str(pool["mode"])
		if mode == "" || strings.EqualFold(mode, "System") {
			mode = "System"
		}
		out = append(out, map[string]any{"mode": mode})
	}
	return out
}

func keepsSystemPool(model map[string]any) error {
	for _, p := range pools(model) {
		if p, ok := p.(map[string]any); ok && p["mode"] == "System" {
			return nil
		}
	}
	return invalid("OperationNotAllowed", "There has to be at least one system agent pool.")
}

// pools are the cluster's agentPoolProfiles.
func pools(model map[string]any) []any {
	list, _ := obj(model, "properties")["agentPoolProfiles"].([]any)
	return list
}

func findPool(model map[string]any, name string) (int, map[string]any) {
	for i, p := range pools(model) {
		if p, ok := p.(map[string]any); ok && strings.EqualFold(str(p["name"]), name) {
			return i, p
		}
	}
	return -1, nil
}

// poolView is a pool as its own resource: the profile's fields, but its
// name, under properties.
func poolView(cluster map[string]any, p any) map[string]any {
	profile, _ := p.(map[string]any)
	props := maps.Clone(profile)
	delete(props, "name")
	delete(props, "nodeImageUpgrades")
	name := str(profile["name"])
	return map[string]any{"id": str(cluster["id"]) + "/agentPools/" + name, "name": name, "type": PoolType, "properties": props}
}

func poolNotFound(cluster map[string]any, name string) error {
	return azerr.ResourceNotFound(ResourceType+"/"+str(cluster["name"])+"/agentPools", str(cluster["id"])+"/agentPools/"+name)
}

// poolAction names a write of pool cur (nil: a new one) as AKS's refusal
// on a stopped cluster words it.
func poolAction(cur, want map[string]any) string {
	code := powerCode(want)
	switch {
	case cur == nil:
		return "creating agent pool"
	case code == "" || strings.EqualFold(code, powerCode(cur)):
		return "updating agent pool"
	case strings.EqualFold(code, powerStopped):
		return "stopping agent pool"
	}
	return "starting agent pool"
}

// setPoolPower stops (az aks nodepool stop) or starts a pool as the body's
// powerState asks, as AKS does: only a user pool stops (PutPool has
// refused a stopped cluster). A stopped pool keeps its count but has no
// nodes.
func setPoolPower(model, pool, want map[string]any) error {
	code, cur := powerCode(want), powerCode(pool)
	if cur == "" {
		cur = powerRunning
	}
	switch {
	case code == "" || strings.EqualFold(code, cur):
	case strings.EqualFold(code, powerStopped):
		pool["powerState"] = map[string]any{"code": powerStopped}
	case strings.EqualFold(code, powerRunning):
		pool["powerState"] = map[string]any{"code": powerRunning}
	default:
		return invalid("InvalidParameter", "The agent pool power state '%s' is invalid: it must be Running or Stopped.", code)
	}
	// Stopped with its cluster, a system pool is no pool stopped alone.
	if pool["mode"] == "System" && poolStopped(pool) && !clusterStopped(model) {
		return invalid("OperationNotAllowed", "The agent pool '%s' is a system pool and cannot be stopped: only user agent pools can be stopped.", str(pool["name"]))
	}
	return nil
}

// poolStopped tells whether a pool was stopped on its own or with its
// cluster: it has no nodes then.
func poolStopped(pool map[string]any) bool {
	return strings.EqualFold(powerCode(pool), powerStopped)
}

// powerCode is m's powerState.code, "" when it has none; m is not changed.
func powerCode(m map[string]any) string {
	p, _ := m["powerState"].(map[string]any)
	return str(p["code"])
}
