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

// Versions az 2.45 and the current Go SDKs use, plus their neighbours.
var (
	resourcesVersions = []string{"2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-06-01", "2019-10-01", "2019-08-01", "2019-07-01", "2019-05-10", "2019-05-01", "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01", "2016-02-01", "2015-11-01"}
	subsVersions      = []string{"2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2016-06-01", "2015-01-01"}
	featureVersions   = []string{"2021-07-01", "2015-12-01"}
	authzVersions     = []string{"2022-05-01-preview", "2022-04-01", "2022-01-01-preview", "2020-10-01-preview", "2020-08-01-preview", "2020-04-01-preview", "2018-09-01-preview", "2018-07-01", "2018-01-01-preview", "2017-05-01", "2015-07-01"}
	aksVersions       = []string{"2025-10-01", "2025-07-01", "2025-05-01", "2025-01-01", "2024-10-01", "2024-09-01", "2024-07-01", "2024-05-01", "2024-02-01", "2023-11-01", "2023-10-01", "2023-08-01", "2023-07-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-03-01", "2023-02-01", "2023-01-01", "2022-11-01", "2022-09-01", "2022-07-01", "2022-04-01", "2022-02-01", "2021-10-01", "2021-08-01", "2021-05-01", "2021-03-01", "2021-02-01", "2020-12-01", "2019-08-01"}
	miVersions        = []string{"2024-11-30", "2023-01-31", "2022-01-31-preview", "2018-11-30", "2015-08-31-preview"}
	// Federated credentials came with 2022-01-31-preview, which az 2.45 sends.
	ficVersions = []string{"2025-01-31-preview", "2024-11-30", "2023-07-31-preview", "2023-01-31", "2022-01-31-preview"}
	// Microsoft.Network: az 2.45's aaz commands send 2022-01-01, cloud-provider-azure 2022-07-01, armnetwork v4–v6 2023-05-01 to 2024-05-01.
	networkVersions = []string{"2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01", "2023-09-01", "2023-06-01", "2023-05-01", "2023-04-01", "2023-02-01", "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01", "2021-08-01", "2021-05-01", "2021-02-01", "2020-11-01", "2020-07-01", "2020-06-01", "2020-05-01"}
	// Microsoft.Compute/disks has versions of its own (…-02): az 2.45 sends 2022-07-02, armcompute v5/v6 2023-04-02 and 2023-10-02.
	diskVersions = []string{"2024-03-02", "2023-10-02", "2023-04-02", "2023-01-02", "2022-07-02", "2022-03-02", "2021-12-01", "2021-08-01", "2021-04-01", "2020-12-01", "2020-09-30", "2020-06-30"}
	// Microsoft.ContainerRegistry: az 2.45 sends 2022-02-01-preview, armcontainerregistry 2023-07-01 and 2023-11-01-preview.
	acrVersions     = []string{"2025-04-01", "2023-11-01-preview", "2023-07-01", "2023-01-01-preview", "2022-12-01", "2022-02-01-preview", "2021-09-01", "2021-06-01-preview", "2019-12-01-preview", "2019-05-01", "2017-10-01"}
	genericVersions = []string{"2024-01-01", "2023-09-01", "2023-05-01", "2023-04-01", "2023-01-01", "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-03-01", "2022-01-01", "2021-09-01", "2021-08-01", "2021-04-01", "2021-03-01", "2021-02-01", "2020-11-01", "2020-06-01"}
)

var catalog = []ProviderInfo{
	{Namespace: "Microsoft.Resources", Free: true, Types: []ResourceType{
		{"subscriptions", nil, subsVersions}, {"tenants", nil, subsVersions}, {"resourceGroups", commonLocations, resourcesVersions},
		{"resources", nil, resourcesVersions}, {"providers", nil, resourcesVersions}, {"operationresults", nil, resourcesVersions}}},
	{Namespace: "Microsoft.Authorization", Free: true, Types: []ResourceType{
		{"roleAssignments", nil, authzVersions}, {"roleDefinitions", nil, authzVersions}, {"permissions", nil, authzVersions}}},
	{Namespace: "Microsoft.Features", Free: true, Types: []ResourceType{{"features", nil, featureVersions}, {"providers", nil, featureVersions}}},
	{Namespace: "Microsoft.ContainerService", Types: []ResourceType{{"managedClusters", commonLocations, aksVersions}, {"locations", nil, aksVersions}, {"locations/operations", nil, aksVersions}}},
	{Namespace: "Microsoft.ManagedIdentity", Types: []ResourceType{{"userAssignedIdentities", commonLocations, miVersions},
		{"userAssignedIdentities/federatedIdentityCredentials", nil, ficVersions}}},
	{Namespace: "Microsoft.Compute", Types: []ResourceType{{"virtualMachines", commonLocations, genericVersions}, {"disks", commonLocations, diskVersions}, {"virtualMachineScaleSets", commonLocations, genericVersions}}},
	{Namespace: "Microsoft.Network", Types: []ResourceType{{"virtualNetworks", commonLocations, networkVersions}, {"virtualNetworks/subnets", nil, networkVersions},
		{"networkSecurityGroups", commonLocations, networkVersions}, {"publicIPAddresses", commonLocations, networkVersions}, {"loadBalancers", commonLocations, networkVersions}}},
	{Namespace: "Microsoft.Storage", Types: []ResourceType{{"storageAccounts", commonLocations, genericVersions}}},
	{Namespace: "Microsoft.ContainerRegistry", Types: []ResourceType{{"registries", commonLocations, acrVersions}}},
	{Namespace: "Microsoft.OperationalInsights", Types: []ResourceType{{"workspaces", commonLocations, genericVersions}}},
	{Namespace: "Microsoft.OperationsManagement", Types: []ResourceType{{"solutions", commonLocations, genericVersions}}},
	{Namespace: "Microsoft.Insights", Types: []ResourceType{{"components", commonLocations, genericVersions}}},
	{Namespace: "Microsoft.KeyVault", Types: []ResourceType{{"vaults", commonLocations, genericVersions}}},
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
