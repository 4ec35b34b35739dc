package arm

import (
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/resources"
)

// Every row that checks an api-version names a catalog entry that has
// some, or the row would refuse every request.
func TestTableNamesCatalogTypes(t *testing.T) {
	for i, row := range (&Handler{}).table() {
		if row.ns != "" && len(resources.APIVersions(row.ns, row.typ)) == 0 {
			t.Errorf("row %d: %s/%s has no api-versions in the catalog", i, row.ns, row.typ)
		}
		if len(row.on) == 0 {
			t.Errorf("row %d: no endpoints", i)
		}
	}
}

// The first matching row is the one its path means.
func TestTableRoutesByShape(t *testing.T) {
	rows := (&Handler{}).table()
	for path, want := range map[string]string{
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.Authorization/roleAssignments/a": "Microsoft.Authorization/roleAssignments",
		"/providers/Microsoft.Authorization/roleDefinitions":                                    "Microsoft.Authorization/roleDefinitions",
		"/subscriptions/s/providers/Microsoft.Authorization/nope":                               "",
		"/subscriptions/s":                            "Microsoft.Resources/subscriptions",
		"/subscriptions/s/resourcegroups/g":           "Microsoft.Resources/resourceGroups",
		"/subscriptions/s/resourceGroups/g/resources": "Microsoft.Resources/resources",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i/federatedIdentityCredentials/f": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
		"/subscriptions/s/providers/Microsoft.ContainerService/managedClusters":                                                         "Microsoft.ContainerService/managedClusters",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c/x/y/z":                                "Microsoft.ContainerService/managedClusters",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/n":                                     "Microsoft.Network/virtualNetworks/subnets",
		"/subscriptions/s/providers/Microsoft.Compute/disks":                                                                            "Microsoft.Compute/disks",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/nope/x":                                                          "",
		"/subscriptions/s/providers/Microsoft.Network/locations/w/operations/o":                                                         "",
		"/subscriptions/s/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/f":                                 "Microsoft.Features/features",
		"/subscriptions/s/providers/Microsoft.Features":                                                                                 "Microsoft.Resources/providers",
		"/subscriptions/s/providers/Microsoft.Nope/register":                                                                            "Microsoft.Resources/providers",
	} {
		row, ok := first(rows, path)
		got := row.ns + "/" + row.typ
		if row.ns == "" {
			got = ""
		}
		if !ok || got != want {
			t.Errorf("%s: routed to %q, want %q", path, got, want)
		}
	}
	if _, ok := first(rows, "/subscriptions/s/resourcegroups/g/providers/microsoft.network"); ok {
		t.Error("a namespace without a type matched a row")
	}
}

// first is the row the router picks for path.
func first(rows []resourceType, path string) (resourceType, bool) {
	low := strings.Split(strings.ToLower(strings.Trim(path, "/")), "/")
	for _, row := range rows {
		if row.matches(low) {
			return row, true
		}
	}
	return resourceType{}, false
}
