package netres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store/sqlite"
)

var created = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newService(t *testing.T) (*Service, *resources.Service) {
	t.Helper()
	st, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := 0
	clk := clock.Func(func() time.Time { return created })
	newID := func() string { n++; return fmt.Sprintf("00000000-0000-0000-0000-%012d", n) }
	return New(st, clk, newID), resources.New(st, clk, time.Minute)
}

func code(err error) string {
	if e, ok := azerr.As(err); ok {
		return e.Code
	}
	return ""
}

func put(t *testing.T, s *Service, group, typ, name string, spec Spec) Resource {
	t.Helper()
	res, err := s.Put(context.Background(), PutRequest{Sub: "sub1", Group: group, Type: typ, Name: name, Spec: spec})
	if err != nil {
		t.Fatalf("put %s %s: %v", typ, name, err)
	}
	return res.Value
}

func TestVirtualNetworkWithSubnets(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	vnet := put(t, s, "net-rg", VirtualNetworks, "vnet1", Spec{Location: "West US 2", Properties: map[string]any{
		"addressSpace": map[string]any{"addressPrefixes": []any{"10.0.0.0/16"}},
		"subnets":      []any{map[string]any{"name": "nodes", "properties": map[string]any{"addressPrefix": "10.0.0.0/24"}}},
	}})
	if vnet.Location != "westus2" || vnet.Etag == "" || vnet.Properties["provisioningState"] != "Succeeded" {
		t.Fatalf("vnet: %+v", vnet)
	}
	sn, err := s.Subnet(ctx, "/SUBSCRIPTIONS/sub1/resourcegroups/NET-RG/providers/microsoft.network/virtualnetworks/VNET1", "NODES")
	if err != nil {
		t.Fatal(err)
	}
	if sn.ID != vnet.ID+"/subnets/nodes" || sn.Type != Subnets || sn.Properties["addressPrefix"] != "10.0.0.0/24" {
		t.Fatalf("subnet read through a differently cased ID: %+v", sn)
	}
	res, err := s.PutSubnet(ctx, vnet.ID, "pods", map[string]any{"addressPrefix": "10.0.1.0/24"})
	if err != nil || !res.Created {
		t.Fatalf("put subnet: %+v %v", res, err)
	}
	if res, err = s.PutSubnet(ctx, vnet.ID, "PODS", map[string]any{"addressPrefix": "10.0.2.0/24"}); err != nil || res.Created || res.Value.Name != "pods" {
		t.Fatalf("replacing a subnet keeps its name: %+v %v", res, err)
	}
	list, err := s.Subnets(ctx, vnet.ID)
	if err != nil || len(list) != 2 || list[1].Properties["addressPrefix"] != "10.0.2.0/24" {
		t.Fatalf("subnets: %+v %v", list, err)
	}
	if err := s.DeleteSubnet(ctx, vnet.ID, "pods"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subnet(ctx, vnet.ID, "pods"); code(err) != "NotFound" {
		t.Fatalf("deleted subnet: %v", err)
	}
	if _, err := s.PutSubnet(ctx, vnet.ID+"x", "a", nil); code(err) != "ResourceNotFound" {
		t.Fatalf("subnet of a missing network: %v", err)
	}
	_, err = s.Put(ctx, PutRequest{Sub: "sub1", Group: "net-rg", Type: VirtualNetworks, Name: "dup", Spec: Spec{Location: "westus2",
		Properties: map[string]any{"subnets": []any{map[string]any{"name": "a"}, map[string]any{"name": "A"}}}}})
	if code(err) != "DuplicateResourceName" {
		t.Fatalf("duplicate subnets: %v", err)
	}
}

func TestPutRules(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	cases := []struct {
		name, typ, resName, location, code string
	}{
		{"no location", PublicIPAddresses, "ip1", "", "LocationRequired"},
		{"unknown location", PublicIPAddresses, "ip1", "moon", "LocationNotAvailableForResourceType"},
		{"bad network name", LoadBalancers, "-lb", "westus2", "InvalidResourceName"},
		{"registry name too short", Registries, "acr", "westus2", "InvalidResourceName"},
		{"registry name with a dash", Registries, "my-registry", "westus2", "InvalidResourceName"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Put(ctx, PutRequest{Sub: "sub1", Group: "g", Type: c.typ, Name: c.resName, Spec: Spec{Location: c.location}})
			if code(err) != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
	ip := put(t, s, "g", PublicIPAddresses, "ip1", Spec{Location: "westus2"})
	if _, err := s.Put(ctx, PutRequest{Sub: "sub1", Group: "g", Type: PublicIPAddresses, Name: "ip1", Spec: Spec{Location: "eastus"}}); code(err) != "InvalidResourceLocation" {
		t.Fatalf("moving a resource: %v", err)
	}
	again, err := s.Put(ctx, PutRequest{Sub: "sub1", Group: "g", Type: PublicIPAddresses, Name: "IP1", Spec: Spec{Location: "westus2", Tags: map[string]string{"a": "b"}}})
	if err != nil || again.Created || again.Value.Name != "ip1" || again.Value.Properties["ipAddress"] != ip.Properties["ipAddress"] ||
		again.Value.Tags["a"] != "b" || again.Value.Etag == ip.Etag {
		t.Fatalf("update keeps the name and address, takes the tags, changes the etag: %+v %v", again, err)
	}
}

func TestComputedProperties(t *testing.T) {
	s, _ := newService(t)
	acr := put(t, s, "g", Registries, "MyRegistry01", Spec{Location: "westus2"})
	if acr.Properties["loginServer"] != "myregistry01.azurecr.io" || acr.SKU["name"] != "Basic" || acr.Etag != "" ||
		acr.Properties["creationDate"] != created.Format(time.RFC3339Nano) {
		t.Fatalf("registry: %+v", acr)
	}
	disk := put(t, s, "g", Disks, "data1", Spec{Location: "westus2", Properties: map[string]any{"diskSizeGB": 10.0}})
	if disk.Properties["diskState"] != "Unattached" || disk.Properties["diskSizeGB"] != 10.0 || disk.SKU["name"] != "Standard_LRS" {
		t.Fatalf("disk: %+v", disk)
	}
	ip := put(t, s, "g", PublicIPAddresses, "ip1", Spec{Location: "westus2"})
	lb := put(t, s, "g", LoadBalancers, "kubernetes", Spec{Location: "westus2", Properties: map[string]any{
		"frontendIPConfigurations": []any{map[string]any{"name": "fe", "properties": map[string]any{"publicIPAddress": map[string]any{"id": ip.ID}}}}}})
	fe := lb.Properties["frontendIPConfigurations"].([]any)[0].(map[string]any)
	if fe["id"] != lb.ID+"/frontendIPConfigurations/fe" || ip.Properties["publicIPAllocationMethod"] != "Static" {
		t.Fatalf("load balancer: %+v, ip %+v", lb, ip)
	}
}

func TestLinksMustResolve(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	vnet := put(t, s, "g", VirtualNetworks, "v", Spec{Location: "westus2", Properties: map[string]any{"subnets": []any{map[string]any{"name": "s"}}}})
	props := func(subnet, ip string) map[string]any {
		return map[string]any{"frontendIPConfigurations": []any{
			map[string]any{"name": "a", "properties": map[string]any{"subnet": map[string]any{"id": subnet}}},
			map[string]any{"name": "b", "properties": map[string]any{"publicIPAddress": map[string]any{"id": ip}}}}}
	}
	ipID := ResourceID("sub1", "g", PublicIPAddresses, "ip")
	links := Links(props(vnet.ID+"/subnets/s", ipID))
	if len(links) != 2 {
		t.Fatalf("links: %+v", links)
	}
	_, err := s.Put(ctx, PutRequest{Sub: "sub1", Group: "g", Type: LoadBalancers, Name: "lb", Spec: Spec{Location: "westus2", Properties: props(vnet.ID+"/subnets/s", ipID)}})
	if code(err) != "InvalidResourceReference" {
		t.Fatalf("a missing public IP: %v", err)
	}
	put(t, s, "g", PublicIPAddresses, "ip", Spec{Location: "westus2"})
	_, err = s.Put(ctx, PutRequest{Sub: "sub1", Group: "g", Type: LoadBalancers, Name: "lb", Spec: Spec{Location: "westus2", Properties: props(vnet.ID+"/subnets/nope", ipID)}})
	if code(err) != "InvalidResourceReference" {
		t.Fatalf("a missing subnet: %v", err)
	}
	put(t, s, "g", LoadBalancers, "lb", Spec{Location: "westus2", Properties: props(vnet.ID+"/subnets/S", ipID)})
}

func TestListDeleteAndIndex(t *testing.T) {
	s, res := newService(t)
	ctx := context.Background()
	put(t, s, "g1", VirtualNetworks, "v", Spec{Location: "westus2"})
	put(t, s, "g1", Disks, "d", Spec{Location: "westus2"})
	put(t, s, "g10", Disks, "d", Spec{Location: "westus2"})
	if l, err := s.List(ctx, "/subscriptions/sub1/resourceGroups/g1", Disks); err != nil || len(l) != 1 {
		t.Fatalf("list g1 disks (not g10's): %+v %v", l, err)
	}
	if l, err := s.List(ctx, "/subscriptions/sub1", ""); err != nil || len(l) != 3 {
		t.Fatalf("list subscription: %+v %v", l, err)
	}
	if l, err := res.ListResources(ctx, "/subscriptions/sub1/resourceGroups/g1", ""); err != nil || len(l) != 2 {
		t.Fatalf("generic index: %+v %v", l, err)
	}
	if err := s.Delete(ctx, ResourceID("sub1", "g1", VirtualNetworks, "v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, ResourceID("sub1", "g1", VirtualNetworks, "v")); code(err) != "ResourceNotFound" {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.DeleteUnder(ctx, "/subscriptions/sub1/resourceGroups/g1"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.List(ctx, "/subscriptions/sub1", ""); len(l) != 1 || l[0].ID != ResourceID("sub1", "g10", Disks, "d") {
		t.Fatalf("after deleting g1: %+v", l)
	}
	if l, _ := res.ListResources(ctx, "/subscriptions/sub1", ""); len(l) != 1 {
		t.Fatalf("index after deleting g1: %+v", l)
	}
}

func TestLookupType(t *testing.T) {
	if typ, ok := LookupType("microsoft.network", "PUBLICIPADDRESSES"); !ok || typ != PublicIPAddresses {
		t.Fatalf("lookup: %q %v", typ, ok)
	}
	if _, ok := LookupType("Microsoft.Compute", "virtualMachines"); ok {
		t.Fatal("virtual machines are not served")
	}
}
