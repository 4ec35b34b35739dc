package aks

import (
	"strings"
)

// governed are the properties an update acts on by rules of their own,
// or that AKS computes; every other property an update sends is kept as
// sent (autoUpgradeProfile, apiServerAccessProfile, autoScalerProfile…),
// as AKS keeps them, rather than dropped. networkProfile stays as created:
// aksid built the node resource group's network from it.
var governed = map[string]bool{
	"agentPoolProfiles": true, "addonProfiles": true, "securityProfile": true, "aadProfile": true,
	"disableLocalAccounts": true, "oidcIssuerProfile": true, "kubernetesVersion": true, "currentKubernetesVersion": true,
	"identityProfile": true, "servicePrincipalProfile": true, "networkProfile": true, "provisioningState": true,
	"powerState": true, "fqdn": true, "azurePortalFQDN": true, "privateFQDN": true, "maxAgentPools": true,
	"dnsPrefix": true, "fqdnSubdomain": true, "nodeResourceGroup": true, "enableRBAC": true,
}

// fixedAtCreation are properties AKS refuses to change.
var fixedAtCreation = []string{"dnsPrefix", "fqdnSubdomain", "nodeResourceGroup", "enableRBAC"}

// keepOthers refuses a change of what is fixed at creation and keeps
// every property no rule governs as the update sends it.
func keepOthers(props, newProps map[string]any) error {
	for _, k := range fixedAtCreation {
		v, ok := newProps[k]
		if !ok || v == nil {
			continue
		}
		if cur, ok := props[k]; !ok || !sameValue(cur, v) {
			return invalid("PropertyChangeNotAllowed", "Changing property '%s' is not allowed.", k)
		}
	}
	for k, v := range newProps {
		if !governed[k] {
			props[k] = v
		}
	}
	forgetWriteOnly(props)
	return nil
}

// sameValue compares a stored and a sent value; names compare as Azure
// compares them, without regard to case.
func sameValue(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	return a == b
}

// forgetWriteOnly drops what ARM takes but never shows and aksid has no
// use for: the Windows nodes' admin password (aksid runs no Windows
// nodes), which must not be stored in clear.
func forgetWriteOnly(props map[string]any) {
	if w, ok := props["windowsProfile"].(map[string]any); ok {
		delete(w, "adminPassword")
	}
}

// skuTier is a cluster's pricing tier (az aks update --tier, or az
// 2.45's --uptime-sla, which asks for Paid, Standard's name before
// 2023) as AKS spells it now.
func skuTier(sku map[string]any) (string, error) {
	tier := ""
	for _, t := range []string{"Free", "Standard", "Premium"} {
		if strings.EqualFold(str(sku["tier"]), t) || str(sku["tier"]) == "" && t == "Free" {
			tier = t
		}
	}
	if strings.EqualFold(str(sku["tier"]), "Paid") {
		tier = "Standard"
	}
	if tier == "" {
		return "", invalid("InvalidParameter", "The value '%s' of sku.tier is invalid: it must be Free, Standard (Paid) or Premium.", str(sku["tier"]))
	}
	switch strings.ToLower(str(sku["name"])) {
	case "", "base", "basic":
	default:
		return "", invalid("InvalidParameter", "The value '%s' of sku.name is invalid: it must be Base.", str(sku["name"]))
	}
	return tier, nil
}

// checkLocalAccounts is AKS's rule since Kubernetes 1.25: local accounts
// can be disabled only on a cluster integrated with Entra, which keeps a
// way in once the admin certificate is gone.
func checkLocalAccounts(props map[string]any) error {
	if props["disableLocalAccounts"] != true {
		return nil
	}
	if _, ok := props["aadProfile"].(map[string]any); ok {
		return nil
	}
	return invalid("BadRequest", "Since kubernetes version 1.25, disableLocalAccounts can only be set on Azure AD integration enabled cluster. Please integrate your cluster with AAD.")
}
