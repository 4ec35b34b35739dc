package azerr

import "testing"

// TestResourceNotFoundNamesTheGroup: ARM's 404 names the resource by
// type and name and the group it was looked for in, whatever the ID's
// casing of "resourceGroups".
func TestResourceNotFoundNamesTheGroup(t *testing.T) {
	for id, want := range map[string]string{
		"/subscriptions/s/resourceGroups/myRG/providers/Microsoft.ContainerService/managedClusters/c1": "The Resource 'Microsoft.ContainerService/managedClusters/c1' under resource group 'myRG' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		"/subscriptions/s/resourcegroups/rg2/providers/Microsoft.ContainerService/managedClusters/c1":  "The Resource 'Microsoft.ContainerService/managedClusters/c1' under resource group 'rg2' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
	} {
		e := ResourceNotFound("Microsoft.ContainerService/managedClusters", id)
		if e.Kind != NotFound || e.Code != "ResourceNotFound" || e.Message != want {
			t.Errorf("%s: %+v", id, e)
		}
	}
}
