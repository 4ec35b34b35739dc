package resources

import (
	"slices"
	"strings"
)

// apiVersions is the one table of the api-versions ARM accepts, per
// resource type ("Namespace/type"), newest first. Each list holds every
// version in which Azure/azure-rest-api-specs defines the type (stable and
// preview folders, the file that holds the type's paths; folders are under
// specification/<service>/resource-manager/<Namespace>/, in the flat layout
// <Namespace>/{stable,preview}/<version>/ or the newer
// <Namespace>/<Service>/{stable,preview}/<version>/), looked up in 2026-12.
// Types defined by the same spec file share its list. The comment of each
// entry names the file and the versions the real clients send (their
// sources: the clientVersions table in apiversions_test.go and
// docs/compat/api-versions.md).
var apiVersions = map[string][]string{
	// subscriptions.json (Microsoft.Resources/subscriptions/stable). az 2.45: 2019-11-01; python3-azure: 2021-01-01;
	// @azure/arm-resources-subscriptions 3: 2022-12-01.
	"Microsoft.Resources/subscriptions": subscriptionsJSON,
	// subscriptions.json (Tenants_List), as subscriptions; the same clients send the same versions.
	"Microsoft.Resources/tenants": subscriptionsJSON,
	// resources.json (Microsoft.Resources/resources/stable). az 2.45 and armresources v1.2.0: 2021-04-01;
	// python3-azure: 2022-09-01; @azure/arm-resources 8: 2025-04-01.
	"Microsoft.Resources/resourceGroups": resourcesJSON,
	// resources.json (Resources_List*), as resourceGroups; same clients, same versions.
	"Microsoft.Resources/resources": resourcesJSON,
	// resources.json (Providers_*), as resourceGroups; same clients, same versions. az 2.45's AKS monitoring
	// addon also reads GET /providers/Microsoft.Insights with 2020-10-01.
	"Microsoft.Resources/providers": resourcesJSON,
	// No spec file of its own: ARM lists it beside resourceGroups with resources.json's versions.
	"Microsoft.Resources/operationresults": resourcesJSON,

	// authorization-RoleAssignmentsCalls.json (Microsoft.Authorization/Authorization/{stable,preview}; 2022-01-01-preview
	// and 2022-05-01-preview are in the flat layout's history). az 2.45: 2020-04-01-preview (profile; Debian's client
	// crashes before sending it); armauthorization/v2 v2.2.0, python3-azure, @azure/arm-authorization 9: 2022-04-01.
	"Microsoft.Authorization/roleAssignments": roleAssignmentsCalls,
	// authorization-RoleDefinitionsCalls.json. az 2.45: 2018-01-01-preview; armauthorization/v2 v2.2.0,
	// python3-azure, @azure/arm-authorization 9: 2022-04-01.
	"Microsoft.Authorization/roleDefinitions": roleDefinitionsCalls,
	// authorization-RoleDefinitionsCalls.json (Permissions_List*), as roleDefinitions; the SDKs send 2022-04-01.
	"Microsoft.Authorization/permissions": roleDefinitionsCalls,

	// features.json (Microsoft.Features/stable, later Microsoft.Features/features/stable). az 2.45, python3-azure,
	// @azure/arm-features 3: 2021-07-01.
	"Microsoft.Features/features": featuresJSON,
	// features.json (providers/{ns}/features/{name}/register), as features.
	"Microsoft.Features/providers": featuresJSON,

	// managedClusters.json (Microsoft.ContainerService/aks/{stable,preview}). az 2.45 and python3-azure: 2022-11-01;
	// @azure/arm-containerservice 25.5: 2026-06-01.
	"Microsoft.ContainerService/managedClusters": managedClustersJSON,
	// No type of its own in the spec: managedClusters' versions plus location.json's 2017-09-30 (orchestrators).
	"Microsoft.ContainerService/locations": aksLocations,
	// No spec path: AKS writes 2016-03-30 into its own operation URLs (shared/compat/az.md §5); aksid's operation
	// URLs carry the caller's version and are not checked.
	"Microsoft.ContainerService/locations/operations": aksOperations,

	// ManagedIdentity.json (Microsoft.ManagedIdentity/ManagedIdentity/{stable,preview}). az 2.45: 2022-01-31-preview;
	// python3-azure: 2018-11-30; @azure/arm-msi 2.2: 2024-11-30.
	"Microsoft.ManagedIdentity/userAssignedIdentities": managedIdentityJSON,
	// ManagedIdentity.json, from 2022-01-31-preview on (not in 2018-11-30 or 2021-09-30-preview). az 2.45:
	// 2022-01-31-preview; @azure/arm-msi 2.2: 2024-11-30; python3-azure's 2018-11-30 default has no such operations.
	"Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials": federatedCredentials,

	// compute.json, later virtualMachine.json and ComputeRP.json (Microsoft.Compute/{stable,preview}, later
	// Microsoft.Compute/Compute/stable). az 2.45: 2022-11-01; python3-azure: 2022-08-01; @azure/arm-compute 25.1: 2026-04-01.
	"Microsoft.Compute/virtualMachines": computeRP,
	// disk.json, later DiskRP.json (versions of its own, …-02). az 2.45 and python3-azure: 2022-07-02;
	// @azure/arm-compute 25.1: 2026-03-02; aksid's cloudprovider: 2022-07-02.
	"Microsoft.Compute/disks": diskRP,
	// The file of virtualMachines, virtualMachineScaleSet.json from 2022. az 2.45: 2022-11-01; python3-azure: 2022-08-01;
	// @azure/arm-compute 25.1: 2026-04-01.
	"Microsoft.Compute/virtualMachineScaleSets": computeRP,

	// virtualNetwork.json (Microsoft.Network/{stable,preview}, later Microsoft.Network/Network/stable; all in
	// network.json in 2015-05-01-preview, 2016-03-30 and 2016-06-01). az 2.45 (aaz): 2022-01-01; python3-azure and
	// aksid's cloudprovider: 2022-07-01; @azure/arm-network 39: 2026-01-01.
	"Microsoft.Network/virtualNetworks": networkRP,
	// virtualNetwork.json (subnets), as virtualNetworks; same clients, same versions.
	"Microsoft.Network/virtualNetworks/subnets": networkRP,
	// networkSecurityGroup.json, released with the rest of the Network RP. az 2.45 (aaz): 2022-01-01;
	// python3-azure: 2022-07-01; @azure/arm-network 39: 2026-01-01.
	"Microsoft.Network/networkSecurityGroups": networkRP,
	// publicIpAddress.json, released with the rest. az 2.45 (aaz): 2022-05-01; python3-azure and aksid's
	// cloudprovider: 2022-07-01; @azure/arm-network 39: 2026-01-01.
	"Microsoft.Network/publicIPAddresses": networkRP,
	// loadBalancer.json, released with the rest. az 2.45 (aaz): 2022-05-01; python3-azure and aksid's
	// cloudprovider: 2022-07-01; @azure/arm-network 39: 2026-01-01.
	"Microsoft.Network/loadBalancers": networkRP,

	// storage.json, later openapi.json (Microsoft.Storage/{stable,preview}, later Microsoft.Storage/Storage/stable).
	// az 2.45 and python3-azure: 2022-09-01.
	"Microsoft.Storage/storageAccounts": storageJSON,
	// containerregistry.json (Microsoft.ContainerRegistry/{stable,preview}, later Microsoft.ContainerRegistry/Registry).
	// az 2.45: 2022-02-01-preview; python3-azure: 2021-09-01; @azure/arm-containerregistry 12: 2025-11-01.
	"Microsoft.ContainerRegistry/registries": registryJSON,
	// OperationalInsights.json, later Workspaces.json. az 2.45: 2015-11-01-preview (aks monitoring addon) and
	// 2021-12-01-preview (monitor log-analytics); python3-azure: 2022-10-01.
	"Microsoft.OperationalInsights/workspaces": workspacesJSON,
	// OperationsManagement.json, one version only. python3-azure: 2015-11-01-preview.
	"Microsoft.OperationsManagement/solutions": {"2015-11-01-preview"},
	// components_API.json (specification/applicationinsights). python3-azure: 2020-02-02.
	"Microsoft.Insights/components": {"2020-02-02", "2020-02-02-preview", "2018-05-01-preview", "2015-05-01"},
	// keyvault.json, later openapi.json (Microsoft.KeyVault/{stable,preview}). az 2.45 and python3-azure: 2022-07-01.
	"Microsoft.KeyVault/vaults": keyvaultJSON,
}

// The lists of the spec files that define more than one type.
var (
	resourcesJSON = []string{"2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01",
		"2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01", "2019-10-01", "2019-08-01",
		"2019-07-01", "2019-05-10", "2019-05-01", "2019-03-01", "2018-05-01", "2018-02-01", "2017-05-10", "2016-09-01",
		"2016-07-01", "2016-02-01", "2015-11-01"}
	subscriptionsJSON = []string{"2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2018-06-01",
		"2016-06-01", "2015-11-01"}
	featuresJSON         = []string{"2025-03-01", "2021-07-01", "2015-12-01"}
	roleAssignmentsCalls = []string{"2026-08-01", "2022-05-01-preview", "2022-04-01", "2022-01-01-preview",
		"2020-10-01-preview", "2020-08-01-preview", "2020-04-01-preview", "2020-03-01-preview", "2018-09-01-preview",
		"2018-01-01-preview", "2017-10-01-preview", "2015-07-01"}
	roleDefinitionsCalls = []string{"2022-05-01-preview", "2022-04-01", "2018-01-01-preview", "2015-07-01"}

	managedClustersJSON = []string{
		"2026-10-02-preview", "2026-10-01", "2026-08-02-preview", "2026-08-01", "2026-07-02-preview", "2026-07-01",
		"2026-06-02-preview", "2026-06-01", "2026-05-02-preview", "2026-05-01", "2026-04-02-preview", "2026-04-01",
		"2026-03-02-preview", "2026-03-01", "2026-02-02-preview", "2026-02-01", "2026-01-02-preview", "2026-01-01",
		"2025-10-02-preview", "2025-10-01", "2025-09-02-preview", "2025-09-01", "2025-08-02-preview", "2025-08-01",
		"2025-07-02-preview", "2025-07-01", "2025-06-02-preview", "2025-06-01", "2025-05-02-preview", "2025-05-01",
		"2025-04-02-preview", "2025-04-01", "2025-03-02-preview", "2025-03-01", "2025-02-02-preview", "2025-02-01",
		"2025-01-02-preview", "2025-01-01", "2024-10-02-preview", "2024-10-01", "2024-09-02-preview", "2024-09-01",
		"2024-08-01", "2024-07-02-preview", "2024-07-01", "2024-06-02-preview", "2024-05-02-preview", "2024-05-01",
		"2024-04-02-preview", "2024-03-02-preview", "2024-02-02-preview", "2024-02-01", "2024-01-02-preview", "2024-01-01",
		"2023-11-02-preview", "2023-11-01", "2023-10-02-preview", "2023-10-01", "2023-09-02-preview", "2023-09-01",
		"2023-08-02-preview", "2023-08-01", "2023-07-02-preview", "2023-07-01", "2023-06-02-preview", "2023-06-01",
		"2023-05-02-preview", "2023-05-01", "2023-04-02-preview", "2023-04-01", "2023-03-02-preview", "2023-03-01",
		"2023-02-02-preview", "2023-02-01", "2023-01-02-preview", "2023-01-01", "2022-11-02-preview", "2022-11-01",
		"2022-10-02-preview", "2022-09-02-preview", "2022-09-01", "2022-08-03-preview", "2022-08-02-preview",
		"2022-07-02-preview", "2022-07-01", "2022-06-02-preview", "2022-06-01", "2022-05-02-preview",
		"2022-04-02-preview", "2022-04-01", "2022-03-02-preview", "2022-03-01", "2022-02-02-preview", "2022-02-01",
		"2022-01-02-preview", "2022-01-01", "2021-11-01-preview", "2021-10-01", "2021-09-01", "2021-08-01", "2021-07-01",
		"2021-05-01", "2021-03-01", "2021-02-01", "2020-12-01", "2020-11-01", "2020-09-01", "2020-07-01", "2020-06-01",
		"2020-04-01", "2020-03-01", "2020-02-01", "2020-01-01", "2019-11-01", "2019-10-01", "2019-08-01", "2019-06-01",
		"2019-04-01", "2019-02-01", "2018-08-01-preview", "2018-03-31", "2017-08-31"}
	aksLocations  = with(managedClustersJSON, "2017-09-30")
	aksOperations = with(aksLocations, "2016-03-30")

	managedIdentityJSON = []string{"2026-05-31", "2026-04-30", "2025-05-31-preview", "2025-01-31-preview", "2024-11-30",
		"2023-07-31-preview", "2023-01-31", "2022-01-31-preview", "2021-09-30-preview", "2018-11-30", "2015-08-31-preview"}
	federatedCredentials = managedIdentityJSON[:8]

	computeRP = []string{"2026-04-01", "2025-11-01", "2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01",
		"2023-07-01", "2023-03-01", "2022-11-01", "2022-08-01", "2022-03-01", "2021-11-01", "2021-07-01", "2021-04-01",
		"2021-03-01", "2020-12-01", "2020-06-01", "2019-12-01", "2019-07-01", "2019-03-01", "2018-10-01", "2018-06-01",
		"2018-04-01", "2017-12-01", "2017-03-30", "2016-04-30-preview", "2016-03-30", "2015-06-15"}
	diskRP = []string{"2026-03-02", "2025-01-02", "2024-03-02", "2023-10-02", "2023-04-02", "2023-01-02", "2022-07-02",
		"2022-03-02", "2021-12-01", "2021-08-01", "2021-04-01", "2020-12-01", "2020-09-30", "2020-06-30", "2020-05-01",
		"2019-11-01", "2019-07-01", "2019-03-01", "2018-09-30", "2018-06-01", "2018-04-01", "2017-03-30",
		"2016-04-30-preview"}
	networkRP = []string{"2026-07-01", "2026-03-01", "2026-01-01", "2025-09-01", "2025-07-01", "2025-05-01", "2025-03-01",
		"2025-01-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01", "2023-09-01", "2023-06-01",
		"2023-05-01", "2023-04-01", "2023-02-01", "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01",
		"2021-12-01", "2021-08-01", "2021-05-01", "2021-03-01", "2021-02-01", "2020-11-01", "2020-08-01", "2020-07-01",
		"2020-06-01", "2020-05-01", "2020-04-01", "2020-03-01", "2019-12-01", "2019-11-01", "2019-09-01", "2019-08-01",
		"2019-07-01", "2019-06-01", "2019-04-01", "2019-02-01", "2018-12-01", "2018-11-01", "2018-10-01", "2018-08-01",
		"2018-07-01", "2018-06-01", "2018-04-01", "2018-02-01", "2018-01-01", "2017-11-01", "2017-10-01", "2017-09-01",
		"2017-08-01", "2017-06-01", "2017-03-01", "2016-12-01", "2016-09-01", "2016-06-01", "2016-03-30", "2015-06-15",
		"2015-05-01-preview"}

	storageJSON = []string{"2026-06-01", "2026-04-01", "2025-08-01", "2025-06-01", "2025-01-01", "2024-01-01",
		"2023-05-01", "2023-04-01", "2023-01-01", "2022-09-01", "2022-05-01", "2021-09-01", "2021-08-01", "2021-06-01",
		"2021-04-01", "2021-02-01", "2021-01-01", "2020-08-01-preview", "2019-06-01", "2019-04-01", "2018-11-01",
		"2018-07-01", "2018-03-01-preview", "2018-02-01", "2017-10-01", "2017-06-01", "2016-12-01", "2016-05-01",
		"2016-01-01", "2015-06-15", "2015-05-01-preview"}
	registryJSON = []string{"2025-11-01", "2025-05-01-preview", "2025-04-01", "2025-03-01-preview", "2024-11-01-preview",
		"2023-11-01-preview", "2023-08-01-preview", "2023-07-01", "2023-06-01-preview", "2023-01-01-preview", "2022-12-01",
		"2022-02-01-preview", "2021-12-01-preview", "2021-09-01", "2021-08-01-preview", "2021-06-01-preview",
		"2020-11-01-preview", "2019-12-01-preview", "2019-05-01", "2017-10-01", "2017-03-01", "2016-06-27-preview"}
	workspacesJSON = []string{"2025-07-01", "2025-02-01", "2023-09-01", "2022-10-01", "2021-12-01-preview", "2021-06-01",
		"2020-10-01", "2020-08-01", "2020-03-01-preview", "2019-08-01-preview", "2015-11-01-preview"}
	keyvaultJSON = []string{"2025-05-01", "2024-12-01-preview", "2024-11-01", "2024-04-01-preview", "2023-07-01",
		"2023-02-01", "2022-11-01", "2022-07-01", "2022-02-01-preview", "2021-11-01-preview", "2021-10-01",
		"2021-06-01-preview", "2021-04-01-preview", "2020-04-01-preview", "2019-09-01", "2018-02-14",
		"2018-02-14-preview", "2016-10-01", "2015-06-01"}
)

// with is a copy of versions with more added, newest first.
func with(versions []string, more ...string) []string {
	out := append(slices.Clip(versions), more...)
	slices.SortStableFunc(out, newestFirst)
	return out
}

// newestFirst orders api-versions by date, newest first, and a stable
// version before a preview of the same date.
func newestFirst(a, b string) int {
	if c := strings.Compare(day(b), day(a)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// day is the date an api-version starts with.
func day(v string) string { return v[:min(len(v), len("2006-01-02"))] }
