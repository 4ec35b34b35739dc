package netres

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
)

// complete fills what each provider computes; prev is the stored version
// on an update, whose computed values (addresses, GUIDs, creation times)
// stay as they were.
func (s *Service) complete(r *Resource, prev *Resource) error {
	p := r.Properties
	keep := func(key string, fresh func() any) {
		if prev != nil {
			if v, ok := prev.Properties[key]; ok {
				p[key] = v
				return
			}
		}
		if _, ok := p[key]; !ok {
			p[key] = fresh()
		}
	}
	now := func() any { return s.clk.Now().UTC().Format(time.RFC3339Nano) }
	p["provisioningState"] = "Succeeded"
	switch r.Type {
	case VirtualNetworks:
		keep("resourceGuid", func() any { return s.newID() })
		setDefault(p, "virtualNetworkPeerings", []any{})
		setDefault(p, "enableDdosProtection", false)
		subnets, err := s.subnets(r.ID, p["subnets"])
		if err != nil {
			return err
		}
		p["subnets"] = subnets
	case PublicIPAddresses:
		if r.SKU == nil {
			r.SKU = map[string]any{"name": "Standard", "tier": "Regional"}
		}
		method := "Static"
		if name, _ := r.SKU["name"].(string); strings.EqualFold(name, "Basic") {
			method = "Dynamic"
		}
		setDefault(p, "publicIPAllocationMethod", method)
		setDefault(p, "publicIPAddressVersion", "IPv4")
		setDefault(p, "idleTimeoutInMinutes", 4.0)
		keep("ipAddress", func() any { return publicAddress(r.ID) })
		keep("resourceGuid", func() any { return s.newID() })
	case LoadBalancers:
		if r.SKU == nil {
			r.SKU = map[string]any{"name": "Standard", "tier": "Regional"}
		}
		for _, child := range []string{"frontendIPConfigurations", "backendAddressPools", "loadBalancingRules", "probes", "inboundNatRules", "outboundRules"} {
			s.children(r.ID, child, LoadBalancers+"/"+child, p)
		}
		keep("resourceGuid", func() any { return s.newID() })
	case Disks:
		if r.SKU == nil {
			r.SKU = map[string]any{"name": "Standard_LRS", "tier": "Standard"}
		}
		setDefault(p, "creationData", map[string]any{"createOption": "Empty"})
		keep("diskState", func() any { return "Unattached" })
		keep("timeCreated", now)
		keep("uniqueId", func() any { return s.newID() })
	case Registries:
		if r.SKU == nil {
			r.SKU = map[string]any{"name": "Basic", "tier": "Basic"}
		}
		p["loginServer"] = strings.ToLower(r.Name) + ".azurecr.io"
		setDefault(p, "adminUserEnabled", false)
		setDefault(p, "publicNetworkAccess", "Enabled")
		keep("creationDate", now)
	}
	if Namespace(r.Type) == "Microsoft.Network" {
		r.Etag = `W/"` + s.newID() + `"`
	}
	return nil
}

func setDefault(m map[string]any, k string, v any) {
	if cur, ok := m[k]; !ok || cur == nil {
		m[k] = v
	}
}

// publicAddress gives a public IP a stable address of its own, derived
// from its ID (no two resources share one in practice).
func publicAddress(id string) string {
	h := sha256.Sum256([]byte(strings.ToLower(id)))
	return fmt.Sprintf("20.%d.%d.%d", h[0], h[1], 1+h[2]%254)
}

// children gives each named entry of a child collection (a load
// balancer's frontends, pools, rules) its ID, type and state.
func (s *Service) children(parentID, key, typ string, p map[string]any) {
	list, _ := p[key].([]any)
	for _, c := range list {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		if name == "" {
			continue
		}
		m["id"], m["type"] = parentID+"/"+key+"/"+name, typ
		props, _ := m["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
			m["properties"] = props
		}
		props["provisioningState"] = "Succeeded"
	}
	if list == nil {
		p[key] = []any{}
	}
}

// subnets checks and completes a virtual network's subnet list: each
// needs a name, unique in the network.
func (s *Service) subnets(vnetID string, v any) ([]any, error) {
	list, _ := v.([]any)
	out := make([]any, 0, len(list))
	seen := map[string]bool{}
	for _, item := range list {
		m, _ := item.(map[string]any)
		name, _ := m["name"].(string)
		if name == "" || !networkName.MatchString(name) {
			return nil, azerr.New(azerr.Invalid, "InvalidResourceName", "Resource name '%s' is invalid for type '%s'.", name, Subnets)
		}
		if seen[strings.ToLower(name)] {
			return nil, azerr.New(azerr.Invalid, "DuplicateResourceName",
				"Resource %s has two child resources with the same name (%s).", vnetID, name)
		}
		seen[strings.ToLower(name)] = true
		props, _ := m["properties"].(map[string]any)
		out = append(out, s.subnet(vnetID, name, props).asMap())
	}
	return out, nil
}
