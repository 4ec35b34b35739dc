package resources

import "strings"

// ResourceType is one type a provider serves, with the api-versions ARM
// accepts for it.
type ResourceType struct {
	ResourceType string   `json:"resourceType"`
	Locations    []string `json:"locations"`
	APIVersions  []string `json:"apiVersions"`
}

// ProviderInfo describes a resource provider namespace.
type ProviderInfo struct {
	Namespace string
	// Free providers are registered in every subscription, as Microsoft.Resources is.
	Free  bool
	Types []ResourceType
}

var commonLocations = []string{"West US 2", "East US", "East US 2", "West US", "West US 3", "Central US", "North Europe",
	"West Europe", "UK South", "Southeast Asia", "Australia East", "Japan East", "Canada Central", "Sweden Central"}

var catalog = []ProviderInfo{
	{Namespace: "Microsoft.Resources", Free: true, Types: []ResourceType{
		typeOf("Microsoft.Resources", "subscriptions", nil), typeOf("Microsoft.Resources", "tenants", nil),
		typeOf("Microsoft.Resources", "resourceGroups", commonLocations), typeOf("Microsoft.Resources", "resources", nil),
		typeOf("Microsoft.Resources", "providers", nil), typeOf("Microsoft.Resources", "operationresults", nil)}},
	{Namespace: "Microsoft.Authorization", Free: true, Types: []ResourceType{
		typeOf("Microsoft.Authorization", "roleAssignments", nil), typeOf("Microsoft.Authorization", "roleDefinitions", nil),
		typeOf("Microsoft.Authorization", "permissions", nil)}},
	{Namespace: "Microsoft.Features", Free: true, Types: []ResourceType{
		typeOf("Microsoft.Features", "features", nil), typeOf("Microsoft.Features", "providers", nil)}},
	{Namespace: "Microsoft.ContainerService", Types: []ResourceType{
		typeOf("Microsoft.ContainerService", "managedClusters", commonLocations), typeOf("Microsoft.ContainerService", "locations", nil),
		typeOf("Microsoft.ContainerService", "locations/operations", nil)}},
	{Namespace: "Microsoft.ManagedIdentity", Types: []ResourceType{
		typeOf("Microsoft.ManagedIdentity", "userAssignedIdentities", commonLocations),
		typeOf("Microsoft.ManagedIdentity", "userAssignedIdentities/federatedIdentityCredentials", nil)}},
	{Namespace: "Microsoft.Compute", Types: []ResourceType{
		typeOf("Microsoft.Compute", "virtualMachines", commonLocations), typeOf("Microsoft.Compute", "disks", commonLocations),
		typeOf("Microsoft.Compute", "virtualMachineScaleSets", commonLocations)}},
	{Namespace: "Microsoft.Network", Types: []ResourceType{
		typeOf("Microsoft.Network", "virtualNetworks", commonLocations), typeOf("Microsoft.Network", "virtualNetworks/subnets", nil),
		typeOf("Microsoft.Network", "networkSecurityGroups", commonLocations), typeOf("Microsoft.Network", "publicIPAddresses", commonLocations),
		typeOf("Microsoft.Network", "loadBalancers", commonLocations)}},
	{Namespace: "Microsoft.Storage", Types: []ResourceType{typeOf("Microsoft.Storage", "storageAccounts", commonLocations)}},
	{Namespace: "Microsoft.ContainerRegistry", Types: []ResourceType{typeOf("Microsoft.ContainerRegistry", "registries", commonLocations)}},
	{Namespace: "Microsoft.OperationalInsights", Types: []ResourceType{typeOf("Microsoft.OperationalInsights", "workspaces", commonLocations)}},
	{Namespace: "Microsoft.OperationsManagement", Types: []ResourceType{typeOf("Microsoft.OperationsManagement", "solutions", commonLocations)}},
	{Namespace: "Microsoft.Insights", Types: []ResourceType{typeOf("Microsoft.Insights", "components", commonLocations)}},
	{Namespace: "Microsoft.KeyVault", Types: []ResourceType{typeOf("Microsoft.KeyVault", "vaults", commonLocations)}},
}

// typeOf is the catalog entry of ns/name, with its api-versions from the
// apiVersions table.
func typeOf(ns, name string, locations []string) ResourceType {
	return ResourceType{ResourceType: name, Locations: locations, APIVersions: apiVersions[ns+"/"+name]}
}

// Provider finds a namespace (case-insensitive).
func Provider(ns string) (ProviderInfo, bool) {
	for _, p := range catalog {
		if strings.EqualFold(p.Namespace, ns) {
			return p, true
		}
	}
	return ProviderInfo{}, false
}

// Providers lists every known namespace.
func Providers() []ProviderInfo { return catalog }

// APIVersions returns the versions accepted for namespace/type (nil when unknown).
func APIVersions(ns, typ string) []string {
	p, ok := Provider(ns)
	if !ok {
		return nil
	}
	for _, t := range p.Types {
		if strings.EqualFold(t.ResourceType, typ) {
			return t.APIVersions
		}
	}
	return nil
}

// knownFeatures are the preview features aksid knows, per namespace.
var knownFeatures = map[string][]string{
	"Microsoft.ContainerService": {"MSIPreview", "AKS-AzureKeyVaultSecretsProvider", "EnableWorkloadIdentityPreview",
		"EnablePodIdentityPreview", "AKS-OMSAppMonitoring", "AKSNetworkModePreview", "PodSubnetPreview",
		"EnableOIDCIssuerPreview", "AzureOverlayPreview", "KubeletDisk", "AKS-ExtensionManager", "NodeAutoProvisioningPreview"},
	"Microsoft.Compute":       {"EncryptionAtHost", "UseStandardSecurityType"},
	"Microsoft.Network":       {"AllowApplicationGatewayPrivateLink"},
	"Microsoft.Resources":     {"EUAPParticipation"},
	"Microsoft.Storage":       {"AllowNFSV3"},
	"Microsoft.Authorization": {"ABACPreview"},
}

// featureRef is a known feature's canonical namespace and name.
type featureRef struct{ ns, name string }

// featureName returns the canonical names of a known feature.
func featureName(ns, name string) (featureRef, bool) {
	p, ok := Provider(ns)
	if !ok {
		return featureRef{}, false
	}
	for _, f := range knownFeatures[p.Namespace] {
		if strings.EqualFold(f, name) {
			return featureRef{p.Namespace, f}, true
		}
	}
	return featureRef{}, false
}
