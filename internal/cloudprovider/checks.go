package cloudprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/httpjson"
	"github.com/aksid/aksid/internal/rbac"
)

// The api-versions cloud-provider-azure (v1.27+) and the CSI drivers send.
const (
	networkVersion = "2022-07-01"
	diskVersion    = "2022-07-02"
	authzVersion   = "2022-04-01"
	// acrPull is what a registry checks before it lets an identity pull.
	acrPull = "Microsoft.ContainerRegistry/registries/pull/read"
	// The resources the checks ensure in the node resource group, named as
	// cloud-provider-azure names a cluster's load balancer and a service's IP.
	lbName  = "kubernetes"
	pipName = "kubernetes-aksid-check"
)

// plan lists the checks for a cluster and request.
func (s *Service) plan(cp aks.ControlPlane, req Request) []check {
	props, _ := cp.Model["properties"].(map[string]any)
	location, groupID := nodeGroup(cp)
	pipID := groupID + "/providers/Microsoft.Network/publicIPAddresses/" + pipName
	plan := []check{
		{name: "public-ip", run: func(ctx context.Context, c *caller) error {
			return c.do(ctx, http.MethodPut, pipID, networkVersion, map[string]any{"location": location,
				"sku": map[string]any{"name": "Standard"}, "tags": map[string]any{"k8s-azure-service": "default/aksid-check"},
				"properties": map[string]any{"publicIPAllocationMethod": "Static"}}, nil)
		}},
		{name: "load-balancer", run: func(ctx context.Context, c *caller) error {
			return c.addFrontend(ctx, groupID+"/providers/Microsoft.Network/loadBalancers/"+lbName, location, frontend{name: "aksid-check", pipID: pipID})
		}},
	}
	if subnet := subnetID(props); subnet != "" {
		// The cloud provider updates the cluster's subnet (route tables,
		// service endpoints): it reads it and writes it back, which takes
		// Network Contributor there.
		plan = append(plan, check{name: "subnet", run: func(ctx context.Context, c *caller) error {
			return c.readWrite(ctx, subnet, networkVersion, "properties")
		}})
	}
	for _, d := range req.Disks {
		plan = append(plan, check{name: "disk/" + lastSegment(d), run: func(ctx context.Context, c *caller) error {
			return c.readWrite(ctx, d, diskVersion, "location", "sku", "tags", "properties")
		}})
	}
	for _, r := range req.Registries {
		plan = append(plan, check{name: "registry/" + lastSegment(r), kubelet: true, run: func(ctx context.Context, c *caller) error {
			return c.mayPull(ctx, r)
		}})
	}
	return plan
}

// nodeGroup is the cluster's location and node resource group's ID.
func nodeGroup(cp aks.ControlPlane) (location, groupID string) {
	props, _ := cp.Model["properties"].(map[string]any)
	location, _ = cp.Model["location"].(string)
	nodeRG, _ := props["nodeResourceGroup"].(string)
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(cp.ID), "/subscriptions/"), "/")[0]
	return location, "/subscriptions/" + sub + "/resourceGroups/" + nodeRG
}

func subnetID(props map[string]any) string {
	pools, _ := props["agentPoolProfiles"].([]any)
	if len(pools) == 0 {
		return ""
	}
	pool, _ := pools[0].(map[string]any)
	id, _ := pool["vnetSubnetID"].(string)
	return id
}

func lastSegment(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

// caller is one identity's Resource Manager client.
type caller struct {
	s     *Service
	token string
}

// armError is Resource Manager's refusal.
type armError struct {
	Code, Message string
	Status        int `json:"-"` // the HTTP status it came with
}

func (e *armError) Error() string { return e.Code + ": " + e.Message }

// do sends one request as the identity; a status of 300 or more is an
// *armError carrying Azure's code and message.
func (c *caller) do(ctx context.Context, method, id, version string, in, out any) error {
	req, err := httpjson.NewRequest(ctx, method, c.s.endpoint+id+"?api-version="+url.QueryEscape(version), in)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error armError `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return &armError{Code: resp.Status, Message: strings.TrimSpace(string(b)), Status: resp.StatusCode}
		}
		e.Error.Status = resp.StatusCode
		return &e.Error
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}

// readWrite reads a resource and puts back the given top-level fields of
// it, needing both read and write on it.
func (c *caller) readWrite(ctx context.Context, id, version string, keep ...string) error {
	var cur map[string]any
	if err := c.do(ctx, http.MethodGet, id, version, nil, &cur); err != nil {
		return err
	}
	body := map[string]any{}
	for _, k := range keep {
		if v, ok := cur[k]; ok {
			body[k] = v
		}
	}
	return c.do(ctx, http.MethodPut, id, version, body, nil)
}

// frontend is what a Service adds to the cluster's load balancer: a
// frontend IP configuration and the rules and probes behind it, named
// after it ("<name>-TCP-80"), as cloud-provider-azure names them.
type frontend struct {
	name          string
	pipID         string
	rules, probes []any
}

// owns tells whether a child of the load balancer belongs to the frontend.
func (f frontend) owns(child any) bool {
	m, _ := child.(map[string]any)
	name, _ := m["name"].(string)
	return name == f.name || strings.HasPrefix(name, f.name+"-")
}

// addFrontend adds a service's frontend to the cluster's load balancer as
// cloud-provider-azure does: it reads the one AKS made and writes it back
// with the frontend, keeping AKS's outbound configuration; it makes the
// load balancer when there is none.
func (c *caller) addFrontend(ctx context.Context, lbID, location string, f frontend) error {
	fe := map[string]any{"name": f.name, "properties": map[string]any{"publicIPAddress": map[string]any{"id": f.pipID}}}
	var lb map[string]any
	err := c.do(ctx, http.MethodGet, lbID, networkVersion, nil, &lb)
	var e *armError
	if errors.As(err, &e) && e.Code == "ResourceNotFound" {
		props := map[string]any{"frontendIPConfigurations": []any{fe}, "backendAddressPools": []any{map[string]any{"name": lbName}}}
		if len(f.rules) > 0 {
			props["loadBalancingRules"], props["probes"] = f.rules, f.probes
		}
		return c.do(ctx, http.MethodPut, lbID, networkVersion, map[string]any{"location": location, "sku": map[string]any{"name": "Standard"},
			"properties": props}, nil)
	}
	if err != nil {
		return err
	}
	props, _ := lb["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	replace := func(key string, ours []any) {
		old, _ := props[key].([]any)
		for _, x := range old {
			if !f.owns(x) {
				ours = append(ours, x)
			}
		}
		if len(ours) > 0 || old != nil {
			props[key] = ours
		}
	}
	replace("frontendIPConfigurations", []any{fe})
	replace("loadBalancingRules", f.rules)
	replace("probes", f.probes)
	if len(f.rules) > 0 {
		pools, _ := props["backendAddressPools"].([]any)
		if !slices.ContainsFunc(pools, func(p any) bool { m, _ := p.(map[string]any); return m["name"] == lbName }) {
			props["backendAddressPools"] = append(pools, map[string]any{"name": lbName})
		}
	}
	return c.do(ctx, http.MethodPut, lbID, networkVersion, map[string]any{"location": lb["location"], "sku": lb["sku"], "tags": lb["tags"], "properties": props}, nil)
}

// mayPull asks Resource Manager for the identity's permissions on the
// registry, as the registry does when kubelet exchanges its token, and
// refuses as ARM would when none grants a pull.
func (c *caller) mayPull(ctx context.Context, registryID string) error {
	var perms struct {
		Value []rbac.Permission `json:"value"`
	}
	if err := c.do(ctx, http.MethodGet, registryID+"/providers/Microsoft.Authorization/permissions", authzVersion, nil, &perms); err != nil {
		return err
	}
	for _, p := range perms.Value {
		if anyMatch(p.Actions, acrPull) && !anyMatch(p.NotActions, acrPull) {
			return nil
		}
	}
	oid := objectID(c.token)
	e := rbac.Denied(oid, oid, acrPull, registryID)
	return &armError{Code: e.Code, Message: e.Message}
}

func anyMatch(patterns []string, action string) bool {
	for _, p := range patterns {
		if rbac.ActionMatches(p, action) {
			return true
		}
	}
	return false
}

// objectID reads the oid claim of the identity's own token, which names
// it in refusals; the token is aksid's, fresh from the token service.
func objectID(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		OID string `json:"oid"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return ""
	}
	return claims.OID
}
