package aks

import "github.com/google/uuid"

// updateAAD applies what `az aks update` may change in the Entra
// integration: turning managed Entra on (also migrating a legacy one),
// its admin groups, Azure RBAC and tenant. A legacy integration cannot be
// turned on later, and a managed one never off.
func updateAAD(props, asked map[string]any) error {
	cur, _ := props["aadProfile"].(map[string]any)
	if asked == nil {
		return nil
	}
	managed := asked["managed"] == true
	switch {
	case cur == nil && !managed:
		return invalid("BadRequest", "Enabling legacy Azure AD integration on an existing cluster is not supported; use managed Azure AD (--enable-aad).")
	case cur != nil && cur["managed"] == true && !managed:
		return invalid("BadRequest", "Managed Azure AD integration cannot be disabled.")
	case !managed:
		return nil // legacy stays as it is: --reset-aad changes it
	}
	next := map[string]any{"managed": true}
	if cur != nil && cur["managed"] == true {
		for k, v := range cur {
			next[k] = v
		}
	}
	for _, k := range []string{"adminGroupObjectIDs", "enableAzureRBAC", "tenantID"} {
		if v, ok := asked[k]; ok && v != nil {
			next[k] = v
		}
	}
	if groups, ok := next["adminGroupObjectIDs"].([]any); ok {
		for _, g := range groups {
			if s, _ := g.(string); !isGUID(s) {
				return invalid("InvalidParameter", "The admin group object ID '%v' is not a valid GUID.", g)
			}
		}
	}
	props["aadProfile"] = next
	return nil
}

// defaultAADTenant gives a managed Entra integration the cluster's tenant
// when none was asked (--aad-tenant-id), as AKS shows it. Derived, it is
// filled where the cluster is shown, never stored.
func defaultAADTenant(props map[string]any, tenantID string) {
	aad, _ := props["aadProfile"].(map[string]any)
	if aad != nil && aad["managed"] == true && str(aad["tenantID"]) == "" {
		aad["tenantID"] = tenantID
	}
}

func isGUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
