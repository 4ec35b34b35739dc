package aks

import (
	"context"
	"strings"
)

// errCustomKubelet is AKS's refusal of a kubelet identity of the user's
// choosing beside a system-assigned control plane.
func errCustomKubelet() error {
	return invalid("CustomKubeletIdentityOnlySupportedOnUserAssignedMSICluster",
		"A custom kubelet identity is only supported on a cluster whose control plane uses a user-assigned managed identity.")
}

// customKubelet is the kubelet identity a body names
// (identityProfile.kubeletidentity.resourceId), "" for none.
func customKubelet(props map[string]any) string {
	return str(obj(obj(props, "identityProfile"), "kubeletidentity")["resourceId"])
}

// assignAction is what a control plane needs on a kubelet identity of the
// user's choosing to put it on the nodes (Managed Identity Operator has it).
const assignAction = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"

// userAssignedPrincipal is the object ID of a user-assigned control
// plane's one identity, "" for none.
func userAssignedPrincipal(identity map[string]any) string {
	uai, _ := identity["userAssignedIdentities"].(map[string]any)
	for _, v := range uai {
		m, _ := v.(map[string]any)
		return str(m["principalId"])
	}
	return ""
}

// mayAssignKubelet refuses a kubelet identity of the user's choosing that
// the control plane (the identity principal) may not assign, as AKS does
// before it changes anything, naming the command that grants the role.
func (s *Service) mayAssignKubelet(ctx context.Context, tenantID, principal, rid string) error {
	ident, err := s.msi.Get(ctx, rid)
	if err != nil || s.roles == nil {
		return err
	}
	groups, err := s.dir.TransitiveGroups(ctx, tenantID, principal)
	if err != nil {
		return err
	}
	ok, err := s.roles.Allowed(ctx, append([]string{principal}, groups...), assignAction, ident.ID)
	if err != nil || ok {
		return err
	}
	return invalid("CustomKubeletIdentityMissingPermissionError",
		"The cluster using user-assigned managed identity must be granted 'Managed Identity Operator' role to assign kubelet identity. "+
			"You can run 'az role assignment create --assignee %s --role 'Managed Identity Operator' --scope %s' to grant the permission. "+
			"See https://learn.microsoft.com/en-us/azure/aks/use-managed-identity#add-role-assignment", principal, ident.ID)
}

// checkKubeletChange is mayAssignKubelet for an update: the control plane
// is the one the update gives the cluster.
func (s *Service) checkKubeletChange(ctx context.Context, cur record, body map[string]any) error {
	kubelet := customKubelet(obj(body, "properties"))
	if kubelet == "" || strings.EqualFold(kubelet, customKubelet(obj(cur.Model, "properties"))) {
		return nil
	}
	want, _ := body["identity"].(map[string]any)
	principal := userAssignedPrincipal(obj(cur.Model, "identity"))
	if strings.EqualFold(str(want["type"]), "userassigned") {
		uai, _ := want["userAssignedIdentities"].(map[string]any) // one, by checkIdentityChange
		for rid := range uai {
			ident, err := s.msi.Get(ctx, rid)
			if err != nil {
				return err
			}
			principal = ident.Properties.PrincipalID
		}
	}
	return s.mayAssignKubelet(ctx, cur.TenantID, principal, kubelet)
}

// useKubelet makes the user-assigned identity rid the nodes' kubelet
// identity.
func (s *Service) useKubelet(ctx context.Context, rid string, props map[string]any) error {
	ident, err := s.msi.Get(ctx, rid)
	if err != nil {
		return err
	}
	props["identityProfile"] = map[string]any{"kubeletidentity": identityRef(ident)}
	return nil
}

// checkIdentityChange refuses, before anything is made or deleted, what
// updateIdentity would refuse: a user-assigned control plane but one
// identity, and a kubelet identity of the user's choosing beside a
// control plane that will not be user-assigned.
func checkIdentityChange(cur record, body map[string]any) error {
	want, _ := body["identity"].(map[string]any)
	typ := strings.ToLower(str(want["type"]))
	if uai, _ := want["userAssignedIdentities"].(map[string]any); typ == "userassigned" && len(uai) != 1 {
		return invalid("InvalidParameter", "Exactly one user-assigned identity must be given for the control plane.")
	}
	kubelet := customKubelet(obj(body, "properties"))
	if kubelet == "" || strings.EqualFold(kubelet, customKubelet(obj(cur.Model, "properties"))) {
		return nil
	}
	userAssigned := typ == "userassigned" || typ != "systemassigned" && cur.SealedSecret == nil && cur.SystemID == ""
	if !userAssigned {
		return errCustomKubelet()
	}
	return nil
}

// updateIdentity applies a changed control-plane identity (`az aks
// update --enable-managed-identity [--assign-identity]`: from a service
// principal to a managed identity, system- to user-assigned and back, one
// user-assigned identity for another) and a changed kubelet identity
// (--assign-kubelet-identity). A system-assigned identity given up is
// deleted, as AKS deletes it; the new one becomes a Contributor on the
// node resource group.
func (s *Service) updateIdentity(ctx context.Context, id string, cur *record, body map[string]any) error {
	want, _ := body["identity"].(map[string]any)
	typ := strings.ToLower(str(want["type"]))
	props := obj(cur.Model, "properties")
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(str(cur.Model["id"])), "/subscriptions/"), "/")[0]
	nodeRG, name := str(props["nodeResourceGroup"]), str(cur.Model["name"])
	changed := false
	switch {
	case typ != "systemassigned" && typ != "userassigned":
		// None or absent: the control plane stays as it is.
	case cur.SealedSecret != nil:
		// From a service principal: the identities a managed-identity
		// cluster is created with.
		cur.Model["identity"] = want
		req := PutRequest{TenantID: cur.TenantID, Sub: sub, Name: name, Body: cur.Model}
		if err := s.createIdentities(ctx, req, id, nodeRG, str(cur.Model["location"]), props, cur); err != nil {
			return err
		}
		cur.SealedSecret, changed = nil, true
	case typ == "systemassigned" && cur.SystemID == "":
		sp, err := s.dir.CreateManagedIdentity(ctx, cur.TenantID, name, id)
		if err != nil {
			return err
		}
		cur.SystemID = sp.AppID
		cur.Model["identity"] = map[string]any{"type": "SystemAssigned", "principalId": sp.ObjectID, "tenantId": cur.TenantID}
		changed = true
	case typ == "userassigned":
		uai, _ := want["userAssignedIdentities"].(map[string]any) // one, by checkIdentityChange
		var rid string
		for k := range uai {
			rid = k
		}
		curUAI, _ := obj(cur.Model, "identity")["userAssignedIdentities"].(map[string]any)
		if cur.SystemID == "" && sameKeyFold(curUAI, rid) {
			break
		}
		ident, err := s.msi.Get(ctx, rid)
		if err != nil {
			return err
		}
		if cur.SystemID != "" {
			if err := s.dir.DeleteManagedIdentity(ctx, cur.TenantID, cur.SystemID); err != nil {
				return err
			}
			cur.SystemID = ""
		}
		cur.Model["identity"] = map[string]any{"type": "UserAssigned", "userAssignedIdentities": map[string]any{
			ident.ID: map[string]any{"principalId": ident.Properties.PrincipalID, "clientId": ident.Properties.ClientID}}}
		changed = true
	}
	if changed {
		if err := s.grantNodeGroup(ctx, sub, nodeRG, cur.TenantID, cur.Model); err != nil {
			return err
		}
	}
	kubelet := customKubelet(obj(body, "properties"))
	if kubelet == "" || strings.EqualFold(kubelet, customKubelet(props)) {
		return nil
	}
	return s.useKubelet(ctx, kubelet, props) // checkIdentityChange and checkKubeletChange allowed it
}

// sameKeyFold tells whether m has key k in any case (resource IDs compare
// case-insensitively).
func sameKeyFold(m map[string]any, k string) bool {
	for key := range m {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	return false
}
