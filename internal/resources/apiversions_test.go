package resources

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every catalog type takes its api-versions from a table of its own, and
// every table belongs to a catalog type.
func TestEveryCatalogTypeHasATable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range catalog {
		for _, typ := range p.Types {
			key := p.Namespace + "/" + typ.ResourceType
			seen[key] = true
			table, ok := apiVersions[key]
			if !ok {
				t.Errorf("%s: no api-version table", key)
				continue
			}
			if !slices.Equal(typ.APIVersions, table) || !slices.Equal(APIVersions(p.Namespace, typ.ResourceType), table) {
				t.Errorf("%s: the catalog does not serve its table", key)
			}
		}
	}
	for key := range apiVersions {
		if !seen[key] {
			t.Errorf("%s: a table for no catalog type", key)
		}
	}
}

var apiVersionShape = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)

// Each table is non-empty, without repeats, well-formed and newest first
// (a stable version before a preview of the same date).
func TestAPIVersionTablesAreWellFormed(t *testing.T) {
	for key, table := range apiVersions {
		if len(table) == 0 {
			t.Errorf("%s: empty", key)
		}
		for i, v := range table {
			if !apiVersionShape.MatchString(v) {
				t.Errorf("%s: %q is not YYYY-MM-DD or YYYY-MM-DD-preview", key, v)
				continue
			}
			if i == 0 || !apiVersionShape.MatchString(table[i-1]) {
				continue
			}
			prev := table[i-1]
			date, prevDate := v[:10], prev[:10]
			switch {
			case prev == v:
				t.Errorf("%s: %s twice", key, v)
			case prevDate < date, prevDate == date && strings.HasSuffix(prev, "-preview"):
				t.Errorf("%s: %s before %s is not newest first", key, prev, v)
			}
		}
	}
}

// clientVersions are the api-versions the real clients send, for the types
// they call.
var clientVersions = []struct{ client, typ, version string }{
	// az 2.45 (Debian azure-cli 2.45.0): the 'latest' profile in
	// azure/cli/core/profiles/_shared.py, the network commands' aaz modules
	// (command_modules/network/aaz/latest/…: vnet, subnet, nsg 2022-01-01; public-ip, lb 2022-05-01),
	// the log-analytics aaz module, acs/addonconfiguration.py and acs/_roleassignments.py;
	// shared/compat/az.md §5.
	{"az 2.45", "Microsoft.Resources/subscriptions", "2019-11-01"},
	{"az 2.45", "Microsoft.Resources/tenants", "2019-11-01"},
	{"az 2.45", "Microsoft.Resources/resourceGroups", "2021-04-01"},
	{"az 2.45", "Microsoft.Resources/resources", "2021-04-01"},
	{"az 2.45", "Microsoft.Resources/providers", "2021-04-01"},
	{"az 2.45", "Microsoft.Resources/providers", "2020-10-01"},
	{"az 2.45", "Microsoft.Features/features", "2021-07-01"},
	{"az 2.45", "Microsoft.Features/providers", "2021-07-01"},
	{"az 2.45", "Microsoft.Authorization/roleAssignments", "2020-04-01-preview"},
	{"az 2.45", "Microsoft.Authorization/roleDefinitions", "2018-01-01-preview"},
	{"az 2.45", "Microsoft.ContainerService/managedClusters", "2022-11-01"},
	{"az 2.45", "Microsoft.ManagedIdentity/userAssignedIdentities", "2022-01-31-preview"},
	{"az 2.45", "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", "2022-01-31-preview"},
	{"az 2.45", "Microsoft.Compute/virtualMachines", "2022-11-01"},
	{"az 2.45", "Microsoft.Compute/virtualMachineScaleSets", "2022-11-01"},
	{"az 2.45", "Microsoft.Compute/disks", "2022-07-02"},
	{"az 2.45", "Microsoft.Network/virtualNetworks", "2022-01-01"},
	{"az 2.45", "Microsoft.Network/virtualNetworks/subnets", "2022-01-01"},
	{"az 2.45", "Microsoft.Network/networkSecurityGroups", "2022-01-01"},
	{"az 2.45", "Microsoft.Network/publicIPAddresses", "2022-05-01"},
	{"az 2.45", "Microsoft.Network/loadBalancers", "2022-05-01"},
	{"az 2.45", "Microsoft.ContainerRegistry/registries", "2022-02-01-preview"},
	{"az 2.45", "Microsoft.Storage/storageAccounts", "2022-09-01"},
	{"az 2.45", "Microsoft.KeyVault/vaults", "2022-07-01"},
	{"az 2.45", "Microsoft.OperationalInsights/workspaces", "2015-11-01-preview"},
	{"az 2.45", "Microsoft.OperationalInsights/workspaces", "2021-12-01-preview"},

	// The Azure SDK for Go modules in go.mod: the reqQP.Set("api-version", …)
	// constants of armresources v1.2.0 and armauthorization/v2 v2.2.0.
	{"armresources v1.2.0", "Microsoft.Resources/resourceGroups", "2021-04-01"},
	{"armresources v1.2.0", "Microsoft.Resources/resources", "2021-04-01"},
	{"armresources v1.2.0", "Microsoft.Resources/providers", "2021-04-01"},
	{"armauthorization/v2 v2.2.0", "Microsoft.Authorization/roleAssignments", "2022-04-01"},
	{"armauthorization/v2 v2.2.0", "Microsoft.Authorization/roleDefinitions", "2022-04-01"},
	{"armauthorization/v2 v2.2.0", "Microsoft.Authorization/permissions", "2022-04-01"},

	// The latest @azure/arm-* on npm (2026-12), their default apiVersion in
	// dist/: arm-resources 8.0.0, arm-resources-subscriptions 3.0.0,
	// arm-features 3.1.0, arm-authorization 9.0.0, arm-containerservice
	// 25.5.0, arm-msi 2.2.0, arm-network 39.0.0, arm-compute 25.1.1,
	// arm-containerregistry 12.0.0.
	{"@azure/arm-resources 8", "Microsoft.Resources/resourceGroups", "2025-04-01"},
	{"@azure/arm-resources 8", "Microsoft.Resources/resources", "2025-04-01"},
	{"@azure/arm-resources 8", "Microsoft.Resources/providers", "2025-04-01"},
	{"@azure/arm-resources-subscriptions 3", "Microsoft.Resources/subscriptions", "2022-12-01"},
	{"@azure/arm-resources-subscriptions 3", "Microsoft.Resources/tenants", "2022-12-01"},
	{"@azure/arm-features 3", "Microsoft.Features/features", "2021-07-01"},
	{"@azure/arm-features 3", "Microsoft.Features/providers", "2021-07-01"},
	{"@azure/arm-authorization 9", "Microsoft.Authorization/roleAssignments", "2022-04-01"},
	{"@azure/arm-authorization 9", "Microsoft.Authorization/roleDefinitions", "2022-04-01"},
	{"@azure/arm-authorization 9", "Microsoft.Authorization/permissions", "2022-04-01"},
	{"@azure/arm-containerservice 25", "Microsoft.ContainerService/managedClusters", "2026-06-01"},
	{"@azure/arm-msi 2", "Microsoft.ManagedIdentity/userAssignedIdentities", "2024-11-30"},
	{"@azure/arm-msi 2", "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", "2024-11-30"},
	{"@azure/arm-network 39", "Microsoft.Network/virtualNetworks", "2026-01-01"},
	{"@azure/arm-network 39", "Microsoft.Network/virtualNetworks/subnets", "2026-01-01"},
	{"@azure/arm-network 39", "Microsoft.Network/networkSecurityGroups", "2026-01-01"},
	{"@azure/arm-network 39", "Microsoft.Network/publicIPAddresses", "2026-01-01"},
	{"@azure/arm-network 39", "Microsoft.Network/loadBalancers", "2026-01-01"},
	{"@azure/arm-compute 25", "Microsoft.Compute/virtualMachines", "2026-04-01"},
	{"@azure/arm-compute 25", "Microsoft.Compute/virtualMachineScaleSets", "2026-04-01"},
	{"@azure/arm-compute 25", "Microsoft.Compute/disks", "2026-03-02"},
	{"@azure/arm-containerregistry 12", "Microsoft.ContainerRegistry/registries", "2025-11-01"},

	// Debian python3-azure 20230112: DEFAULT_API_VERSION and the profile
	// overrides of the clients under /usr/lib/python3/dist-packages/azure/mgmt/
	// (resource/resources, resource/subscriptions, resource/features,
	// authorization, containerservice, msi, network, compute,
	// containerregistry, storage, keyvault, loganalytics,
	// applicationinsights, operationsmanagement).
	{"python3-azure", "Microsoft.Resources/resourceGroups", "2022-09-01"},
	{"python3-azure", "Microsoft.Resources/resources", "2022-09-01"},
	{"python3-azure", "Microsoft.Resources/providers", "2022-09-01"},
	{"python3-azure", "Microsoft.Resources/subscriptions", "2021-01-01"},
	{"python3-azure", "Microsoft.Resources/tenants", "2021-01-01"},
	{"python3-azure", "Microsoft.Features/features", "2021-07-01"},
	{"python3-azure", "Microsoft.Authorization/roleAssignments", "2022-04-01"},
	{"python3-azure", "Microsoft.Authorization/roleDefinitions", "2022-04-01"},
	{"python3-azure", "Microsoft.Authorization/permissions", "2022-04-01"},
	{"python3-azure", "Microsoft.ContainerService/managedClusters", "2022-11-01"},
	{"python3-azure", "Microsoft.ManagedIdentity/userAssignedIdentities", "2018-11-30"},
	{"python3-azure", "Microsoft.Network/virtualNetworks", "2022-07-01"},
	{"python3-azure", "Microsoft.Network/virtualNetworks/subnets", "2022-07-01"},
	{"python3-azure", "Microsoft.Network/networkSecurityGroups", "2022-07-01"},
	{"python3-azure", "Microsoft.Network/publicIPAddresses", "2022-07-01"},
	{"python3-azure", "Microsoft.Network/loadBalancers", "2022-07-01"},
	{"python3-azure", "Microsoft.Compute/virtualMachines", "2022-08-01"},
	{"python3-azure", "Microsoft.Compute/virtualMachineScaleSets", "2022-08-01"},
	{"python3-azure", "Microsoft.Compute/disks", "2022-07-02"},
	{"python3-azure", "Microsoft.ContainerRegistry/registries", "2021-09-01"},
	{"python3-azure", "Microsoft.Storage/storageAccounts", "2022-09-01"},
	{"python3-azure", "Microsoft.KeyVault/vaults", "2022-07-01"},
	{"python3-azure", "Microsoft.OperationalInsights/workspaces", "2022-10-01"},
	{"python3-azure", "Microsoft.Insights/components", "2020-02-02"},
	{"python3-azure", "Microsoft.OperationsManagement/solutions", "2015-11-01-preview"},
}

// The versions the real clients send are accepted for the types they call.
func TestRealClientsAPIVersionsAccepted(t *testing.T) {
	for _, c := range clientVersions {
		ns, typ, _ := strings.Cut(c.typ, "/")
		if !slices.Contains(APIVersions(ns, typ), c.version) {
			t.Errorf("%s sends %s for %s: not accepted", c.client, c.version, c.typ)
		}
	}
}

// Federated credentials came with 2022-01-31-preview: the identity versions
// before it do not serve them.
func TestFederatedCredentialsVersionsAreIdentityVersions(t *testing.T) {
	fic := APIVersions("Microsoft.ManagedIdentity", "userAssignedIdentities/federatedIdentityCredentials")
	for _, v := range fic {
		if !slices.Contains(APIVersions("Microsoft.ManagedIdentity", "userAssignedIdentities"), v) {
			t.Errorf("%s serves credentials but not identities", v)
		}
	}
	for _, v := range []string{"2018-11-30", "2021-09-30-preview"} {
		if slices.Contains(fic, v) {
			t.Errorf("%s has no federated credentials in the spec", v)
		}
	}
}
