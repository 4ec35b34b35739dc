package aks

import (
	"context"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
)

// update changes what may change on an existing cluster: tags, the tier,
// pool sizes and versions, the Kubernetes version, the Entra
// integration, local accounts, the OIDC issuer and workload identity, the
// control-plane and kubelet identities, add-ons (an add-on's identity is
// made when it is enabled and deleted when it is disabled), and keeps
// as sent what no rule governs.
func (s *Service) update(ctx context.Context, id string, cur record, body map[string]any) (PutResult, error) {
	// What is only checked and set in the record comes first; what acts
	// elsewhere (identities made or deleted) last, so that a refused
	// update leaves nothing behind.
	if err := refuseStopped(cur.Model, "updating managed cluster"); err != nil {
		return PutResult{}, err
	}
	if err := checkIdentityChange(cur, body); err != nil {
		return PutResult{}, err
	}
	if err := s.checkKubeletChange(ctx, cur, body); err != nil {
		return PutResult{}, err
	}
	if tags, ok := body["tags"].(map[string]any); ok {
		cur.Model["tags"] = tags
	}
	if sku, ok := body["sku"].(map[string]any); ok {
		tier, err := skuTier(sku)
		if err != nil {
			return PutResult{}, err
		}
		cur.Model["sku"] = map[string]any{"name": "Base", "tier": tier}
	}
	props, newProps := obj(cur.Model, "properties"), obj(body, "properties")
	if err := keepOthers(props, newProps); err != nil {
		return PutResult{}, err
	}
	name := str(cur.Model["name"])
	v, err := upgradeVersion(name, newProps["kubernetesVersion"], str(props["currentKubernetesVersion"]))
	if err != nil {
		return PutResult{}, err
	}
	props["kubernetesVersion"], props["currentKubernetesVersion"] = v, v
	if pools, ok := newProps["agentPoolProfiles"].([]any); ok {
		if err := mergePools(name, props, pools); err != nil {
			return PutResult{}, err
		}
	}
	if sp, ok := newProps["securityProfile"].(map[string]any); ok {
		props["securityProfile"] = sp
	}
	if aad, ok := newProps["aadProfile"].(map[string]any); ok {
		if err := updateAAD(props, aad); err != nil {
			return PutResult{}, err
		}
	}
	if v, ok := newProps["disableLocalAccounts"].(bool); ok {
		props["disableLocalAccounts"] = v
	}
	if err := checkLocalAccounts(props); err != nil {
		return PutResult{}, err
	}
	location, _ := cur.Model["location"].(string)
	if err := s.applyOIDC(&cur, location, props, newProps); err != nil {
		return PutResult{}, err
	}
	if err := s.updateIdentity(ctx, id, &cur, body); err != nil {
		return PutResult{}, err
	}
	if addons, ok := newProps["addonProfiles"].(map[string]any); ok {
		if err := s.updateAddons(ctx, cur, props, addons); err != nil {
			return PutResult{}, err
		}
	}
	if err := s.keepSAKey(&cur); err != nil {
		return PutResult{}, err
	}
	return PutResult{Model: shown(cur)}, s.save(ctx, id, cur)
}

// mergePools takes the node counts and versions the client asks for, by
// pool name (az aks scale, az aks upgrade).
func mergePools(cluster string, props map[string]any, pools []any) error {
	have, _ := props["agentPoolProfiles"].([]any)
	for _, p := range pools {
		want, _ := p.(map[string]any)
		for _, h := range have {
			cur, _ := h.(map[string]any)
			if cur == nil || want == nil || str(cur["name"]) != str(want["name"]) {
				continue
			}
			// Checked as an agent pool PUT checks it: az aks scale to 0
			// nodes is refused for a system pool, not ignored.
			if n, ok := want["count"]; ok {
				if err := takeModeAndCount(cur, map[string]any{"count": n}); err != nil {
					return err
				}
			}
			v, err := upgradeVersion(cluster, want["orchestratorVersion"], str(cur["currentOrchestratorVersion"]))
			if err != nil {
				return err
			}
			cur["orchestratorVersion"], cur["currentOrchestratorVersion"] = v, v
		}
	}
	return nil
}

// updateAddons applies enabled/disabled add-ons; on managed-identity
// clusters each enabled add-on has an identity in the node resource group.
func (s *Service) updateAddons(ctx context.Context, cur record, props, addons map[string]any) error {
	have := obj(props, "addonProfiles")
	nodeRG := str(props["nodeResourceGroup"])
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(str(cur.Model["id"])), "/subscriptions/"), "/")[0]
	name, _ := cur.Model["name"].(string)
	location, _ := cur.Model["location"].(string)
	for addon, v := range addons {
		want, _ := v.(map[string]any)
		old, _ := have[addon].(map[string]any)
		on, wasOn := want["enabled"] == true, old != nil && old["enabled"] == true
		switch {
		case on && !wasOn:
			if cur.SealedSecret == nil {
				up, err := s.msi.Put(ctx, cur.TenantID, sub, nodeRG, strings.ToLower(addon)+"-"+name, msi.Spec{Location: location})
				ai := up.Value
				if err != nil {
					return err
				}
				want["identity"] = identityRef(ai)
			}
			have[addon] = want
		case !on && wasOn:
			if ident, ok := old["identity"].(map[string]any); ok {
				if err := s.msi.Delete(ctx, str(ident["resourceId"])); err != nil {
					return err
				}
			}
			have[addon] = map[string]any{"enabled": false, "config": want["config"]}
		}
	}
	return nil
}

// DeleteUnder removes the clusters at or under scope with their
// system-assigned identities (a service principal is not the cluster's to
// delete). Their node resource groups are managed by them: deleting the
// cluster through resources.DeleteScope takes those along.
func (s *Service) DeleteUnder(ctx context.Context, scope string) error {
	prefix := strings.ToLower(strings.TrimRight(scope, "/"))
	var ids []string
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		items, err := tx.List(kindCluster, prefix)
		for _, it := range items {
			if it.Key == prefix || strings.HasPrefix(it.Key, prefix+"/") {
				ids = append(ids, it.Key)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.deleteCluster(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) deleteCluster(ctx context.Context, id string) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if r.SystemID != "" {
		if err := s.dir.DeleteManagedIdentity(ctx, r.TenantID, r.SystemID); err != nil {
			return err
		}
	}
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Delete(kindCluster, strings.ToLower(id)); err != nil {
			return err
		}
		if r.OIDCIssuerID != "" {
			if err := deleteIfPresent(tx, kindOIDCIssuer, strings.ToLower(r.TenantID+"/"+r.OIDCIssuerID)); err != nil {
				return err
			}
		}
		if err := deleteEvents(tx, id); err != nil {
			return err
		}
		if err := deleteIfPresent(tx, kindCheck, strings.ToLower(id)); err != nil {
			return err
		}
		return unindex(tx, r.Model["id"].(string))
	})
	if err == nil && s.obs != nil {
		s.obs.ClusterDeleted(str(r.Model["id"]))
	}
	return err
}

// deleteNodeGroup undoes a failed create: the node resource group with
// the identities and network resources made in it.
func (s *Service) deleteNodeGroup(ctx context.Context, sub, group string) {
	if group == "" {
		return
	}
	scope := "/subscriptions/" + sub + "/resourceGroups/" + group
	idents, _ := s.msi.List(ctx, scope)
	for _, i := range idents {
		_ = s.msi.Delete(ctx, i.ID)
	}
	if s.nodes != nil {
		_ = s.nodes.DeleteUnder(ctx, scope)
	}
	_ = s.res.DeleteGroup(ctx, sub, group)
}

// ResetServicePrincipal checks and stores a new credential; the node
// pools roll onto a new node image, as AKS does. Managed-identity
// clusters refuse, as AKS does.
func (s *Service) ResetServicePrincipal(ctx context.Context, id, clientID, secret string) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if err := refuseStopped(r.Model, "resetting service principal profile"); err != nil {
		return err
	}
	if r.SealedSecret == nil {
		return invalid("BadRequest", "Updating service principal profile is not allowed on MSI cluster.")
	}
	if len(secret) > maxSecretBytes {
		return invalid("InvalidParameter", "The value of parameter servicePrincipalProfile.secret is invalid: it must be at most %d bytes long.", maxSecretBytes)
	}
	if err := s.checkCredential(ctx, r.TenantID, clientID, secret); err != nil {
		return err
	}
	if r.SealedSecret, err = s.seal.Seal(secretLabel, []byte(secret)); err != nil {
		return err
	}
	props := obj(r.Model, "properties")
	props["servicePrincipalProfile"] = map[string]any{"clientId": clientID}
	bumpNodeImages(props)
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(id), "/subscriptions/"), "/")[0]
	// A new principal needs the node resource group as the old one had it.
	if err := s.grantNodeGroup(ctx, sub, str(props["nodeResourceGroup"]), r.TenantID, r.Model); err != nil {
		return err
	}
	return s.save(ctx, id, r)
}

func bumpNodeImages(props map[string]any) {
	pools, _ := props["agentPoolProfiles"].([]any)
	for _, p := range pools {
		if pool, ok := p.(map[string]any); ok {
			bumpNodeImage(pool)
		}
	}
}

// bumpNodeImage moves a pool to the next node image: its nodes are
// replaced, as a reimage through surge replaces them.
func bumpNodeImage(pool map[string]any) {
	n := rollNodes(pool)
	pool["nodeImageVersion"] = nodeImage(n)
}

// rollNodes replaces a pool's nodes (their names follow the count it
// keeps) and returns how many times they have been replaced.
func rollNodes(pool map[string]any) int {
	n := 0
	if v, ok := pool["nodeImageUpgrades"].(float64); ok {
		n = int(v)
	}
	pool["nodeImageUpgrades"] = float64(n + 1)
	return n + 1
}

// ResetAAD replaces a legacy Entra integration's server and client
// applications; clusters without one (or with managed Entra) refuse.
func (s *Service) ResetAAD(ctx context.Context, id string, profile map[string]any) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if err := refuseStopped(r.Model, "resetting AAD profile"); err != nil {
		return err
	}
	props := obj(r.Model, "properties")
	aad, _ := props["aadProfile"].(map[string]any)
	if aad == nil || aad["managed"] == true {
		return invalid("BadRequest", "Updating the AAD profile is only allowed on clusters with legacy (non-managed) Azure AD integration.")
	}
	if str(profile["serverAppSecret"]) == "" {
		return invalid("InvalidParameter", "The serverAppSecret must be given.")
	}
	for _, k := range []string{"clientAppID", "serverAppID", "tenantID", "serverAppSecret"} {
		if v := str(profile[k]); v != "" {
			aad[k] = v
		}
	}
	if err := s.sealAADSecret(&r, props); err != nil {
		return err
	}
	return s.save(ctx, id, r)
}

// AzureJSON is the cloud-provider configuration AKS writes to the nodes'
// /etc/kubernetes/azure.json, with the decrypted secret.
func (s *Service) AzureJSON(ctx context.Context, id string) (map[string]any, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	props := obj(r.Model, "properties")
	sub := strings.Split(strings.TrimPrefix(strings.ToLower(id), "/subscriptions/"), "/")[0]
	out := map[string]any{"cloud": "AzurePublicCloud", "tenantId": r.TenantID, "subscriptionId": sub,
		"resourceGroup": props["nodeResourceGroup"], "location": r.Model["location"], "vmType": "vmss",
		"loadBalancerSku": "Standard", "useInstanceMetadata": true}
	if r.SealedSecret != nil {
		secret, err := s.seal.Open(secretLabel, r.SealedSecret)
		if err != nil {
			return nil, err
		}
		out["aadClientId"] = obj(props, "servicePrincipalProfile")["clientId"]
		out["aadClientSecret"] = string(secret)
		out["useManagedIdentityExtension"] = false
		return out, nil
	}
	kubelet := obj(obj(props, "identityProfile"), "kubeletidentity")
	out["aadClientId"], out["aadClientSecret"] = "msi", "msi"
	out["useManagedIdentityExtension"], out["userAssignedIdentityID"] = true, kubelet["clientId"]
	return out, nil
}

func unindex(tx store.Tx, id string) error { return resources.UnindexResource(tx, id) }

func deleteIfPresent(tx store.Tx, kind, key string) error {
	if err := tx.Delete(kind, key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
