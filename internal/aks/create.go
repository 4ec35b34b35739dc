package aks

import (
	"context"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/msi"
	"github.com/aksid/aksid/internal/resources"
)

const secretLabel = "aks-service-principal-secret"

// PutRequest is a create-or-update of a cluster.
type PutRequest struct {
	TenantID string
	Sub      string
	Group    string // as stored (canonical case)
	Name     string
	Body     map[string]any // the ARM body as sent
}

// PutResult is the cluster after a put, and whether it was created.
type PutResult struct {
	Model   map[string]any
	Created bool
}

// Put creates a cluster with its identities and node resource group, or
// updates an existing one's tags. A failed create leaves nothing behind.
func (s *Service) Put(ctx context.Context, req PutRequest) (PutResult, error) {
	if !validName.MatchString(req.Name) {
		return PutResult{}, invalid("InvalidResourceName", "Resource name %s is invalid. The name can contain only letters, numbers, underscores and hyphens. The name must start and end with a letter or number, 1 to 63 characters.", req.Name)
	}
	if err := CheckBody(req.Body); err != nil {
		return PutResult{}, err
	}
	id := clusterID(req.Sub, req.Group, req.Name)
	props := obj(req.Body, "properties")
	identity, _ := req.Body["identity"].(map[string]any)
	spProfile, _ := props["servicePrincipalProfile"].(map[string]any)
	spClient, _ := spProfile["clientId"].(string)
	useSP := spClient != "" && !strings.EqualFold(spClient, "msi")
	if cur, err := s.load(ctx, id); err == nil {
		return s.update(ctx, id, cur, req.Body)
	} else if e, ok := azerr.As(err); !ok || e.Kind != azerr.NotFound {
		return PutResult{}, err
	}
	location, err := resources.NormalizeLocation(str(req.Body["location"]))
	if err != nil {
		return PutResult{}, invalid("LocationRequired", "The location property is required for this definition.")
	}
	if useSP && identity != nil && str(identity["type"]) != "" && !strings.EqualFold(str(identity["type"]), "None") {
		return PutResult{}, invalid("BadRequest", "Service principal profile and managed identity cannot both be specified. Use one of them.")
	}
	if err := checkVersions(req.Name, props); err != nil {
		return PutResult{}, err
	}
	if err := checkPools(props); err != nil {
		return PutResult{}, err
	}
	if err := checkLocalAccounts(props); err != nil {
		return PutResult{}, err
	}
	tier, err := skuTier(obj(req.Body, "sku"))
	if err != nil {
		return PutResult{}, err
	}
	r := record{TenantID: req.TenantID, PowerSince: s.clk.Now().UTC()}
	var undo []func()
	fail := func(err error) (PutResult, error) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return PutResult{}, err
	}
	if useSP {
		secret := str(spProfile["secret"])
		if len(secret) > maxSecretBytes {
			return PutResult{}, invalid("InvalidParameter", "The value of parameter servicePrincipalProfile.secret is invalid: it must be at most %d bytes long.", maxSecretBytes)
		}
		if err := s.checkCredential(ctx, req.TenantID, spClient, secret); err != nil {
			return PutResult{}, err
		}
		if r.SealedSecret, err = s.seal.Seal(secretLabel, []byte(secret)); err != nil {
			return PutResult{}, err
		}
		props["servicePrincipalProfile"] = map[string]any{"clientId": spClient}
		delete(req.Body, "identity")
	}
	if err := s.sealAADSecret(&r, props); err != nil {
		return PutResult{}, err
	}
	forgetWriteOnly(props)
	ca, err := s.newCA(req.Name)
	if err != nil {
		return PutResult{}, err
	}
	r.CACert, r.CAKey = ca.certDER, ca.sealedKey
	s.defaults(id, req, location, props)
	req.Body["sku"] = map[string]any{"name": "Base", "tier": tier}
	defaultOIDC(props, str(props["kubernetesVersion"]))
	if err := s.applyOIDC(&r, location, props, props); err != nil {
		return PutResult{}, err
	}
	if err := s.keepSAKey(&r); err != nil { // an issuer's key signs otherwise
		return PutResult{}, err
	}
	nodeRG := str(props["nodeResourceGroup"])
	if _, err := s.res.PutGroup(ctx, req.Sub, nodeRG, resources.GroupSpec{Location: location, ManagedBy: id}); err != nil {
		return PutResult{}, err
	}
	undo = append(undo, func() { s.deleteNodeGroup(context.WithoutCancel(ctx), req.Sub, nodeRG) })
	if !useSP {
		if err := s.createIdentities(ctx, req, id, nodeRG, location, props, &r); err != nil {
			if r.SystemID != "" {
				undo = append(undo, func() { _ = s.dir.DeleteManagedIdentity(context.WithoutCancel(ctx), req.TenantID, r.SystemID) })
			}
			return fail(err)
		}
		undo = append(undo, func() { _ = s.dir.DeleteManagedIdentity(context.WithoutCancel(ctx), req.TenantID, r.SystemID) })
	}
	if err := s.grantNodeGroup(ctx, req.Sub, nodeRG, req.TenantID, req.Body); err != nil {
		return fail(err)
	}
	if err := s.buildNetwork(ctx, req, id, nodeRG, location, props); err != nil {
		return fail(err)
	}
	r.Model = req.Body
	if err := s.save(ctx, id, r); err != nil {
		return fail(err)
	}
	if s.obs != nil {
		// A new cluster runs, as in Azure: its API server starts now, so
		// the docs' next commands (get-credentials, kubectl) find it up.
		s.obs.ClusterStarted(str(r.Model["id"]))
	}
	return PutResult{Model: shown(r), Created: true}, nil
}

// CheckBody refuses what is not a cluster's shape, as ARM does before the
// provider sees it: a body that is not an object (JSON null included), or
// properties, identity or tags that are neither objects nor null.
func CheckBody(body map[string]any) error {
	if body == nil {
		return invalid("InvalidRequestContent", "The request content was invalid and could not be deserialized: the body must be a JSON object.")
	}
	for _, k := range []string{"properties", "identity", "tags"} {
		if v, ok := body[k]; ok && v != nil {
			if _, isObj := v.(map[string]any); !isObj {
				return invalid("InvalidRequestContent", "The request content was invalid and could not be deserialized: property '%s' has the wrong type.", k)
			}
		}
	}
	return nil
}

// checkCredential signs in as the principal, as AKS does before it
// accepts a service principal.
func (s *Service) checkCredential(ctx context.Context, tenantID, clientID, secret string) error {
	if err := s.signIn.SignInError(ctx, tenantID, clientID, secret); err != nil {
		return invalid("ServicePrincipalValidationClientError",
			"Service principal clientID: %s not accepted by Entra ID tenant %s. The credentials in ServicePrincipalProfile were invalid. Please see https://aka.ms/aks-sp-help for more details. (Details: %s)", clientID, tenantID, err.Error())
	}
	return nil
}

func str(v any) string { s, _ := v.(string); return s }

// defaults fills what AKS computes: names, versions, states, the pools.
func (s *Service) defaults(id string, req PutRequest, location string, props map[string]any) {
	req.Body["id"], req.Body["name"], req.Body["type"], req.Body["location"] = id, req.Name, ResourceType, location
	if _, ok := req.Body["tags"].(map[string]any); !ok {
		req.Body["tags"] = map[string]any{}
	}
	version := str(props["kubernetesVersion"]) // checked by Put
	dnsPrefix := str(props["dnsPrefix"])
	if dnsPrefix == "" {
		dnsPrefix = req.Name + "-dns"
	}
	nodeRG := str(props["nodeResourceGroup"])
	if nodeRG == "" {
		nodeRG = "MC_" + req.Group + "_" + req.Name + "_" + location
	}
	host := fqdn(dnsPrefix, id, location)
	for k, v := range map[string]any{
		"provisioningState": "Succeeded", "powerState": map[string]any{"code": "Running"},
		"kubernetesVersion": version, "currentKubernetesVersion": version, "dnsPrefix": dnsPrefix,
		"fqdn": host, "azurePortalFQDN": strings.Replace(host, ".hcp.", ".portal.hcp.", 1), "nodeResourceGroup": nodeRG,
		"maxAgentPools": 100,
	} {
		props[k] = v
	}
	if _, ok := props["enableRBAC"]; !ok {
		props["enableRBAC"] = true
	}
	pools, _ := props["agentPoolProfiles"].([]any)
	if len(pools) == 0 {
		pools = []any{map[string]any{"name": "nodepool1"}}
	}
	for _, p := range pools {
		pool, ok := p.(map[string]any)
		if !ok {
			continue
		}
		setDefault(pool, "count", 3.0)
		setDefault(pool, "vmSize", "Standard_DS2_v2")
		setDefault(pool, "type", "VirtualMachineScaleSets")
		setDefault(pool, "mode", "System")
		if n, _ := pool["osDiskSizeGB"].(float64); n == 0 {
			pool["osDiskSizeGB"] = 128.0
		}
		pool["osType"], pool["osSKU"], pool["provisioningState"] = "Linux", "Ubuntu", "Succeeded"
		pool["powerState"] = map[string]any{"code": "Running"}
		pool["orchestratorVersion"], pool["currentOrchestratorVersion"] = version, version
		pool["nodeImageVersion"] = nodeImage(0)
		poolDefaults(props, pool)
	}
	props["agentPoolProfiles"] = pools
}

// poolDefaults fills what AKS shows in a new pool unless asked otherwise:
// a managed OS disk, and as many pods per node as the network plugin
// allows by default (Azure CNI 30, in overlay mode 250, kubenet 110).
func poolDefaults(props, pool map[string]any) {
	network, _ := props["networkProfile"].(map[string]any)
	maxPods := 110.0
	if strings.EqualFold(str(network["networkPlugin"]), "azure") {
		maxPods = 30
		if strings.EqualFold(str(network["networkPluginMode"]), "overlay") {
			maxPods = 250
		}
	}
	setDefault(pool, "maxPods", maxPods)
	setDefault(pool, "osDiskType", "Managed")
	setDefault(pool, "kubeletDiskType", "OS")
}

func setDefault(m map[string]any, k string, v any) {
	if cur, ok := m[k]; !ok || cur == nil || cur == "" || cur == 0.0 {
		m[k] = v
	}
}

// nodeImage names the node image after n upgrades (credential resets
// roll the nodes onto a new image).
func nodeImage(n int) string {
	return "AKSUbuntu-2204gen2containerd-202511." + itoa(n+1) + ".0"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// createIdentities makes the system-assigned control-plane identity (or
// takes a user-assigned one), the kubelet identity in the node resource
// group and one identity per enabled add-on.
func (s *Service) createIdentities(ctx context.Context, req PutRequest, id, nodeRG, location string, props map[string]any, r *record) error {
	identity, _ := req.Body["identity"].(map[string]any)
	if identity == nil {
		identity = map[string]any{"type": "SystemAssigned"}
	}
	switch strings.ToLower(str(identity["type"])) {
	case "userassigned":
		uai, _ := identity["userAssignedIdentities"].(map[string]any)
		if len(uai) != 1 {
			return invalid("InvalidParameter", "Exactly one user-assigned identity must be given for the control plane.")
		}
		ids := map[string]any{}
		for rid := range uai {
			ident, err := s.msi.Get(ctx, rid)
			if err != nil {
				return err
			}
			ids[ident.ID] = map[string]any{"principalId": ident.Properties.PrincipalID, "clientId": ident.Properties.ClientID}
		}
		identity = map[string]any{"type": "UserAssigned", "userAssignedIdentities": ids}
	default:
		sp, err := s.dir.CreateManagedIdentity(ctx, req.TenantID, req.Name, id)
		if err != nil {
			return err
		}
		r.SystemID = sp.AppID
		identity = map[string]any{"type": "SystemAssigned", "principalId": sp.ObjectID, "tenantId": req.TenantID}
	}
	req.Body["identity"] = identity
	props["servicePrincipalProfile"] = map[string]any{"clientId": "msi"}
	if rid := customKubelet(props); rid != "" {
		if r.SystemID != "" {
			return errCustomKubelet()
		}
		if err := s.mayAssignKubelet(ctx, req.TenantID, userAssignedPrincipal(identity), rid); err != nil {
			return err
		}
		if err := s.useKubelet(ctx, rid, props); err != nil {
			return err
		}
	} else {
		up, err := s.msi.Put(ctx, req.TenantID, req.Sub, nodeRG, req.Name+"-agentpool", msi.Spec{Location: location})
		if err != nil {
			return err
		}
		props["identityProfile"] = map[string]any{"kubeletidentity": identityRef(up.Value)}
	}
	addons, _ := props["addonProfiles"].(map[string]any)
	for name, a := range addons {
		addon, ok := a.(map[string]any)
		if !ok || addon["enabled"] != true {
			continue
		}
		up, err := s.msi.Put(ctx, req.TenantID, req.Sub, nodeRG, strings.ToLower(name)+"-"+req.Name, msi.Spec{Location: location})
		ai := up.Value
		if err != nil {
			return err
		}
		addon["identity"] = identityRef(ai)
	}
	return nil
}

func identityRef(i msi.Identity) map[string]any {
	return map[string]any{"resourceId": i.ID, "clientId": i.Properties.ClientID, "objectId": i.Properties.PrincipalID}
}

const aadSecretLabel = "aks-aad-server-app-secret"

// sealAADSecret moves a legacy Entra integration's server app secret out
// of the model (ARM never shows it) into the sealed record.
func (s *Service) sealAADSecret(r *record, props map[string]any) error {
	aad, _ := props["aadProfile"].(map[string]any)
	secret := str(aad["serverAppSecret"])
	if secret == "" {
		return nil
	}
	sealed, err := s.seal.Seal(aadSecretLabel, []byte(secret))
	if err != nil {
		return err
	}
	r.SealedAADSecret = sealed
	delete(aad, "serverAppSecret")
	return nil
}
