package aks

import (
	"context"
	"strings"

	"github.com/aksid/aksid/internal/netres"
	"github.com/aksid/aksid/internal/resources"
	"github.com/google/uuid"
)

// nodeNamespaces are the providers AKS's own resource provider registers
// in the subscription when it builds a cluster: its nodes are virtual
// machine scale sets and disks, its network a load balancer and public IP.
// The user registers only Microsoft.ContainerService, as the docs say.
var nodeNamespaces = []string{"Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage"}

// lbName is the name AKS and cloud-provider-azure give a cluster's load balancer.
const lbName = "kubernetes"

// buildNetwork registers what the nodes need and makes the cluster's
// standard load balancer with its managed outbound public IP in the node
// resource group, as AKS does at creation; the network profile shows them.
func (s *Service) buildNetwork(ctx context.Context, req PutRequest, id, nodeRG, location string, props map[string]any) error {
	if s.res != nil {
		for _, ns := range nodeNamespaces {
			if _, err := s.res.RegisterProvider(ctx, req.Sub, ns, resources.Register); err != nil {
				return err
			}
		}
	}
	profile := obj(props, "networkProfile")
	setDefault(profile, "networkPlugin", "kubenet")
	setDefault(profile, "loadBalancerSku", "standard")
	setDefault(profile, "outboundType", "loadBalancer")
	if s.nodes == nil || !strings.EqualFold(str(profile["outboundType"]), "loadBalancer") {
		return nil
	}
	// AKS names the outbound IP with a GUID; this one is derived from the
	// cluster so a cluster made again gets the same name.
	ipName := uuid.NewSHA1(uuid.NameSpaceURL, []byte(strings.ToLower(id))).String()
	ip, err := s.nodes.Put(ctx, netres.PutRequest{Sub: req.Sub, Group: nodeRG, Type: netres.PublicIPAddresses, Name: ipName,
		Spec: netres.Spec{Location: location, Tags: map[string]string{"aks-managed-type": "aks-slb-managed-outbound-ip"},
			SKU: map[string]any{"name": "Standard", "tier": "Regional"}, Properties: map[string]any{"publicIPAllocationMethod": "Static"}}})
	if err != nil {
		return err
	}
	lbID := netres.ResourceID(req.Sub, nodeRG, netres.LoadBalancers, lbName)
	ref := func(id string) map[string]any { return map[string]any{"id": id} }
	if _, err := s.nodes.Put(ctx, netres.PutRequest{Sub: req.Sub, Group: nodeRG, Type: netres.LoadBalancers, Name: lbName,
		Spec: netres.Spec{Location: location, SKU: map[string]any{"name": "Standard", "tier": "Regional"},
			Tags: map[string]string{"aks-managed-cluster-name": req.Name, "aks-managed-cluster-rg": req.Group},
			Properties: map[string]any{
				"frontendIPConfigurations": []any{map[string]any{"name": ipName, "properties": map[string]any{"publicIPAddress": ref(ip.Value.ID)}}},
				"backendAddressPools":      []any{map[string]any{"name": lbName}},
				"outboundRules": []any{map[string]any{"name": "aksOutboundRule", "properties": map[string]any{
					"frontendIPConfigurations": []any{ref(lbID + "/frontendIPConfigurations/" + ipName)},
					"backendAddressPool":       ref(lbID + "/backendAddressPools/" + lbName),
					"protocol":                 "All", "allocatedOutboundPorts": 0.0, "idleTimeoutInMinutes": 30.0, "enableTcpReset": true}}},
			}}}); err != nil {
		return err
	}
	lbProfile := obj(profile, "loadBalancerProfile")
	setDefault(lbProfile, "managedOutboundIPs", map[string]any{"count": 1.0})
	lbProfile["effectiveOutboundIPs"] = []any{map[string]any{"id": ip.Value.ID, "resourceGroup": nodeRG}}
	return nil
}
