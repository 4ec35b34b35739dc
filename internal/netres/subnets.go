package netres

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
)

// Subnet is a virtual network's subnet as ARM shows it, both inside the
// network's properties.subnets and at …/virtualNetworks/{v}/subnets/{s}.
type Subnet struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Etag       string         `json:"etag"`
	Properties map[string]any `json:"properties"`
}

func (s *Service) subnet(vnetID, name string, props map[string]any) Subnet {
	if props == nil {
		props = map[string]any{}
	}
	props["provisioningState"] = "Succeeded"
	return Subnet{ID: vnetID + "/subnets/" + name, Name: name, Type: Subnets, Etag: `W/"` + s.newID() + `"`, Properties: props}
}

func (sn Subnet) asMap() map[string]any {
	return map[string]any{"id": sn.ID, "name": sn.Name, "type": sn.Type, "etag": sn.Etag, "properties": sn.Properties}
}

func subnetFrom(v any) Subnet {
	var sn Subnet
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, &sn)
	return sn
}

// subnetRef is a subnet ID split into its network's ID and its name.
type subnetRef struct{ vnetID, name string }

// splitSubnetID splits …/virtualNetworks/{v}/subnets/{s}.
func splitSubnetID(id string) (subnetRef, bool) {
	i := strings.LastIndex(strings.ToLower(id), "/subnets/")
	if i < 0 || !strings.Contains(strings.ToLower(id[:i]), "/providers/microsoft.network/virtualnetworks/") {
		return subnetRef{}, false
	}
	return subnetRef{id[:i], id[i+len("/subnets/"):]}, true
}

// findSubnet returns the index of the named subnet in the network, or -1.
func findSubnet(vnet Resource, name string) int {
	list, _ := vnet.Properties["subnets"].([]any)
	for i, item := range list {
		if m, _ := item.(map[string]any); m != nil {
			if n, _ := m["name"].(string); strings.EqualFold(n, name) {
				return i
			}
		}
	}
	return -1
}

func subnetNotFound(vnetID, name string) error {
	return azerr.New(azerr.NotFound, "NotFound", "Resource %s/subnets/%s not found.", vnetID, name)
}

// Subnet returns one subnet of a virtual network.
func (s *Service) Subnet(ctx context.Context, vnetID, name string) (Subnet, error) {
	vnet, err := s.Get(ctx, vnetID)
	if err != nil {
		return Subnet{}, err
	}
	i := findSubnet(vnet, name)
	if i < 0 {
		return Subnet{}, subnetNotFound(vnet.ID, name)
	}
	return subnetFrom(vnet.Properties["subnets"].([]any)[i]), nil
}

// Subnets lists a virtual network's subnets.
func (s *Service) Subnets(ctx context.Context, vnetID string) ([]Subnet, error) {
	vnet, err := s.Get(ctx, vnetID)
	if err != nil {
		return nil, err
	}
	out := []Subnet{}
	list, _ := vnet.Properties["subnets"].([]any)
	for _, item := range list {
		out = append(out, subnetFrom(item))
	}
	return out, nil
}

// PutSubnet creates or replaces a subnet of an existing virtual network.
func (s *Service) PutSubnet(ctx context.Context, vnetID, name string, props map[string]any) (resources.Upsert[Subnet], error) {
	if !networkName.MatchString(name) {
		return resources.Upsert[Subnet]{}, azerr.New(azerr.Invalid, "InvalidResourceName", "Resource name '%s' is invalid for type '%s'.", name, Subnets)
	}
	var res resources.Upsert[Subnet]
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		vnet, err := get(tx, vnetID)
		if err != nil {
			return err
		}
		if props == nil {
			props = map[string]any{}
		}
		for _, l := range Links(props) {
			if err := resolve(tx, vnet.ID+"/subnets/"+name, l.ID); err != nil {
				return err
			}
		}
		list, _ := vnet.Properties["subnets"].([]any)
		i := findSubnet(vnet, name)
		if i >= 0 {
			name = subnetFrom(list[i]).Name // keep the name as created
		}
		sn := s.subnet(vnet.ID, name, props)
		if i >= 0 {
			list[i] = sn.asMap()
		} else {
			list = append(list, sn.asMap())
		}
		vnet.Properties["subnets"] = list
		vnet.Etag = `W/"` + s.newID() + `"`
		res = resources.Upsert[Subnet]{Value: sn, Created: i < 0}
		return s.save(tx, vnet)
	})
	return res, err
}

// DeleteSubnet removes a subnet from its virtual network.
func (s *Service) DeleteSubnet(ctx context.Context, vnetID, name string) error {
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		vnet, err := get(tx, vnetID)
		if err != nil {
			return err
		}
		i := findSubnet(vnet, name)
		if i < 0 {
			return subnetNotFound(vnet.ID, name)
		}
		list := vnet.Properties["subnets"].([]any)
		vnet.Properties["subnets"] = append(list[:i], list[i+1:]...)
		vnet.Etag = `W/"` + s.newID() + `"`
		return s.save(tx, vnet)
	})
}
