package arm

import (
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/netres"
)

// The catalog entries and RBAC actions the table names.
const (
	rsNamespace       = "Microsoft.Resources"
	actGroupRead      = "Microsoft.Resources/subscriptions/resourceGroups/read"
	actGroupWrite     = "Microsoft.Resources/subscriptions/resourceGroups/write"
	actGroupDelete    = "Microsoft.Resources/subscriptions/resourceGroups/delete"
	actResRead        = "Microsoft.Resources/subscriptions/resources/read"
	actProviderRead   = "Microsoft.Resources/subscriptions/providers/read"
	featuresNamespace = "Microsoft.Features"
	actFeatureRead    = "Microsoft.Features/features/read"
	actFeatureReg     = "Microsoft.Features/providers/features/register/action"
	actFeatureUnreg   = "Microsoft.Features/providers/features/unregister/action"

	authzNamespace      = "Microsoft.Authorization"
	actAssignmentRead   = "Microsoft.Authorization/roleAssignments/read"
	actAssignmentWrite  = "Microsoft.Authorization/roleAssignments/write"
	actAssignmentDelete = "Microsoft.Authorization/roleAssignments/delete"
	actDefinitionWrite  = "Microsoft.Authorization/roleDefinitions/write"
	actDefinitionDelete = "Microsoft.Authorization/roleDefinitions/delete"

	miNamespace  = "Microsoft.ManagedIdentity"
	miType       = "userAssignedIdentities"
	actMIRead    = "Microsoft.ManagedIdentity/userAssignedIdentities/read"
	actMIWrite   = "Microsoft.ManagedIdentity/userAssignedIdentities/write"
	actMIDelete  = "Microsoft.ManagedIdentity/userAssignedIdentities/delete"
	ficType      = "userAssignedIdentities/federatedIdentityCredentials"
	actFICRead   = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
	actFICWrite  = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"
	actFICDelete = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete"

	aksNamespace = "Microsoft.ContainerService"
	aksType      = "managedClusters"
	actAKS       = "Microsoft.ContainerService/managedClusters/"
)

// Path shapes the rows start with.
const (
	sub   = "subscriptions/*"
	group = sub + "/resourcegroups/*"
)

// table is the face's routing table, one row per resource type (its
// lists and actions in rows of their own), first match wins: which paths,
// which api-versions (by catalog entry), which scope, which endpoints.
func (h *Handler) table() []resourceType {
	const get, put, del, post = http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPost
	notFound := endpoint{serve: notFoundPath}
	mi := group + "/providers/microsoft.managedidentity/userassignedidentities"
	fic := mi + "/*/federatedidentitycredentials"
	aks := "/providers/microsoft.containerservice/managedclusters"
	features := sub + "/providers/microsoft.features"
	ops := sub + "/providers/*/locations/*/"
	t := []resourceType{
		// Microsoft.Authorization lives under any scope, so it comes first;
		// its other paths are not found whatever the api-version.
		{match: authzPath("roleassignments", 0), ns: authzNamespace, typ: "roleAssignments", scope: atAnyScope, id: anyScope,
			on: methods{get: {actAssignmentRead, h.listAssignments}}},
		{match: authzPath("roleassignments", 1), ns: authzNamespace, typ: "roleAssignments", scope: atAnyScope, id: anyScope,
			on: methods{get: {actAssignmentRead, h.getAssignment}, put: {actAssignmentWrite, h.putAssignment}, del: {actAssignmentDelete, h.deleteAssignment}}},
		// Every principal may read role definitions, as in Azure.
		{match: authzPath("roledefinitions", 0), ns: authzNamespace, typ: "roleDefinitions", scope: atAnyScope, id: anyScope,
			on: methods{get: {"", h.listDefinitions}}},
		{match: authzPath("roledefinitions", 1), ns: authzNamespace, typ: "roleDefinitions", scope: atAnyScope, id: anyScope,
			on: methods{get: {"", h.getDefinition}, put: {actDefinitionWrite, h.putDefinition}, del: {actDefinitionDelete, h.deleteDefinition}}},
		{match: authzPath("permissions", 0), ns: authzNamespace, typ: "permissions", scope: atAnyScope, id: anyScope,
			on: methods{get: {"", h.permissions}}},
		{match: authzPath("", 0), on: methods{"": notFound}},

		{paths: paths("tenants"), ns: rsNamespace, typ: "tenants", on: methods{get: {"", h.listTenants}, "": notFound}},
		{paths: paths("subscriptions"), ns: rsNamespace, typ: "subscriptions", on: methods{get: {"", h.listSubscriptions}, "": notFound}},
		{paths: paths(sub), ns: rsNamespace, typ: "subscriptions", scope: atSubscription, on: methods{get: {"", h.getSubscription}, "": notFound}},
		{paths: paths(sub + "/resourcegroups"), ns: rsNamespace, typ: "resourceGroups", scope: atSubscription,
			on: methods{get: {"", h.listGroups}}},
		{paths: paths(group), ns: rsNamespace, typ: "resourceGroups", scope: atSubscription, id: groupID,
			on: methods{get: {actGroupRead, h.getGroup}, http.MethodHead: {actGroupRead, h.headGroup}, put: {actGroupWrite, h.putGroup},
				http.MethodPatch: {actGroupWrite, h.patchGroup}, del: {actGroupDelete, h.deleteGroup}}},
		{paths: paths(sub+"/resources", group+"/resources"), ns: rsNamespace, typ: "resources", scope: atSubscription,
			on: methods{get: {"", h.listResources}}},

		{paths: paths(fic), ns: miNamespace, typ: ficType, scope: atGroup, on: methods{get: {"", h.listFederated}}},
		{paths: paths(fic + "/*"), ns: miNamespace, typ: ficType, scope: atGroup, id: federatedID,
			on: methods{get: {actFICRead, h.getFederated}, put: {actFICWrite, h.putFederated}, del: {actFICDelete, h.deleteFederated}}},
		{paths: paths(mi, sub+"/providers/microsoft.managedidentity/userassignedidentities"), ns: miNamespace, typ: miType, scope: atGroup,
			on: methods{get: {"", h.listIdentities}}},
		{paths: paths(mi + "/*"), ns: miNamespace, typ: miType, scope: atGroup, id: identityID,
			on: methods{get: {actMIRead, h.getIdentity}, put: {actMIWrite, h.putIdentity}, del: {actMIDelete, h.deleteIdentity}}},

		{paths: paths(sub+aks, group+aks), ns: aksNamespace, typ: aksType, scope: atGroup, on: methods{get: {"", h.listClusters}}},
		{paths: paths(group + aks + "/*"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{get: {actAKS + "read", h.getCluster}, put: {actAKS + "write", h.putCluster}, del: {actAKS + "delete", h.deleteCluster}}},
		{paths: paths(group + aks + "/*/listclusterusercredential"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "listClusterUserCredential/action", h.userCredential}, "": notFound}},
		{paths: paths(group + aks + "/*/listclusteradmincredential"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "listClusterAdminCredential/action", h.adminCredential}, "": notFound}},
		{paths: paths(group + aks + "/*/resetserviceprincipalprofile"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "resetServicePrincipalProfile/action", h.resetServicePrincipal}, "": notFound}},
		{paths: paths(group + aks + "/*/resetaadprofile"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "resetAADProfile/action", h.resetAAD}, "": notFound}},
		{paths: paths(group + aks + "/*/rotateclustercertificates"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "rotateClusterCertificates/action", h.rotateCertificates}, "": notFound}},
		{paths: paths(group + aks + "/*/rotateserviceaccountsigningkeys"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "rotateServiceAccountSigningKeys/action", h.rotateSigningKeys}, "": notFound}},
		{paths: paths(group + aks + "/*/stop"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "stop/action", h.stopCluster}, "": notFound}},
		{paths: paths(group + aks + "/*/start"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "start/action", h.startCluster}, "": notFound}},
		{paths: paths(group + aks + "/*/runcommand"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{post: {actAKS + "runCommand/action", h.runCommand}, "": notFound}},
		// Agent pools share their cluster's api-versions (managedClusters.json).
		{paths: paths(group + aks + "/*/agentpools"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{get: {actAKS + "agentPools/read", h.listPools}, "": notFound}},
		{paths: paths(group + aks + "/*/agentpools/*"), ns: aksNamespace, typ: aksType, scope: atGroup, id: poolID,
			on: methods{get: {actAKS + "agentPools/read", h.getPool}, put: {actAKS + "agentPools/write", h.putPool},
				del: {actAKS + "agentPools/delete", h.deletePool}}},
		{paths: paths(group + aks + "/*/agentpools/*/upgradenodeimageversion"), ns: aksNamespace, typ: aksType, scope: atGroup, id: poolID,
			on: methods{post: {actAKS + "agentPools/upgradeNodeImageVersion/action", h.upgradeNodeImage}, "": notFound}},
		{paths: paths(group + aks + "/*/agentpools/*/upgradeprofiles/default"), ns: aksNamespace, typ: aksType, scope: atGroup, id: poolID,
			on: methods{get: {actAKS + "agentPools/upgradeProfiles/read", h.poolUpgradeProfile}, "": notFound}},
		{paths: paths(group + aks + "/*/upgradeprofiles/default"), ns: aksNamespace, typ: aksType, scope: atGroup, id: clusterID,
			on: methods{get: {actAKS + "upgradeProfiles/read", h.upgradeProfile}, "": notFound}},
		{paths: paths(group + aks + "/*/**"), ns: aksNamespace, typ: aksType, scope: atGroup, on: methods{"": notFound}},
		{paths: paths(sub + "/providers/microsoft.containerservice/locations/*/orchestrators"), ns: aksNamespace, typ: "locations",
			scope: atSubscription, id: subscriptionID, on: methods{get: {"Microsoft.ContainerService/locations/orchestrators/read", h.getVersions}, "": notFound}},
		{paths: paths(sub + "/providers/microsoft.containerservice/locations/*/kubernetesversions"), ns: aksNamespace, typ: "locations",
			scope: atSubscription, id: subscriptionID, on: methods{get: {"Microsoft.ContainerService/locations/kubernetesVersions/read", h.getVersions}, "": notFound}},
	}
	t = append(t, h.networkTypes()...)
	return append(t,
		// Any api-version: the URL is one aksid handed out.
		resourceType{paths: paths(ops+"operations/*", ops+"operationresults/*"), on: methods{get: {"", h.operation}}},

		resourceType{paths: paths(features + "/features"), ns: featuresNamespace, typ: "features", scope: atSubscription, id: subscriptionID,
			on: methods{get: {actFeatureRead, h.listAllFeatures}, "": notFound}},
		resourceType{paths: paths(features + "/providers/*/features"), ns: featuresNamespace, typ: "features", scope: atSubscription, id: subscriptionID,
			on: methods{get: {actFeatureRead, h.listFeatures}, "": notFound}},
		resourceType{paths: paths(features + "/providers/*/features/*"), ns: featuresNamespace, typ: "features", scope: atSubscription, id: subscriptionID,
			on: methods{get: {actFeatureRead, h.getFeature}, "": notFound}},
		resourceType{paths: paths(features + "/providers/*/features/*/register"), ns: featuresNamespace, typ: "features", scope: atSubscription, id: subscriptionID,
			on: methods{post: {actFeatureReg, h.registerFeature}, "": notFound}},
		resourceType{paths: paths(features + "/providers/*/features/*/unregister"), ns: featuresNamespace, typ: "features", scope: atSubscription, id: subscriptionID,
			on: methods{post: {actFeatureUnreg, h.unregisterFeature}, "": notFound}},
		resourceType{paths: paths(features + "/**"), ns: featuresNamespace, typ: "features", scope: atSubscription, on: methods{"": notFound}},

		resourceType{paths: paths(sub + "/providers"), ns: rsNamespace, typ: "providers", scope: atSubscription, id: subscriptionID,
			on: methods{get: {actProviderRead, h.listProviders}, "": notFound}},
		resourceType{paths: paths(sub + "/providers/*"), ns: rsNamespace, typ: "providers", scope: atSubscription, id: subscriptionID,
			on: methods{get: {actProviderRead, h.getProvider}, "": notFound}},
		// The action is the namespace's own: {namespace}/register/action.
		resourceType{paths: paths(sub+"/providers/*/register", sub+"/providers/*/unregister"), ns: rsNamespace, typ: "providers", scope: atSubscription, id: subscriptionID,
			on: methods{post: {"", h.registerProvider}, "": notFound}},
		resourceType{paths: paths(sub + "/providers/**"), ns: rsNamespace, typ: "providers", scope: atSubscription, on: methods{"": notFound}},
	)
}

// networkTypes are the rows of the minimal network, compute and registry
// providers, one set a type; their namespaces' other paths are an unknown
// type or not found, whatever the api-version.
func (h *Handler) networkTypes() []resourceType {
	var t []resourceType
	for _, typ := range []string{netres.VirtualNetworks, netres.PublicIPAddresses, netres.LoadBalancers, netres.Disks, netres.Registries} {
		ns, name, _ := strings.Cut(typ, "/")
		p := "/providers/" + strings.ToLower(typ)
		t = append(t,
			resourceType{paths: paths(sub+p, group+p), ns: ns, typ: name, scope: atGroup, on: methods{http.MethodGet: {"", h.listNetwork(typ)}}},
			resourceType{paths: paths(group + p + "/*"), ns: ns, typ: name, scope: atGroup, id: networkID(typ),
				on: methods{http.MethodGet: {typ + "/read", h.getNetwork}, http.MethodPut: {typ + "/write", h.putNetwork(typ)},
					http.MethodDelete: {typ + "/delete", h.deleteNetwork}}})
	}
	subnets := group + "/providers/microsoft.network/virtualnetworks/*/subnets"
	return append(t,
		resourceType{paths: paths(subnets), ns: "Microsoft.Network", typ: "virtualNetworks/subnets", scope: atGroup, id: vnetID,
			on: methods{http.MethodGet: {"", h.listSubnets}}},
		resourceType{paths: paths(subnets + "/*"), ns: "Microsoft.Network", typ: "virtualNetworks/subnets", scope: atGroup, id: subnetID,
			on: methods{http.MethodGet: {netres.Subnets + "/read", h.getSubnet}, http.MethodPut: {netres.Subnets + "/write", h.putSubnet},
				http.MethodDelete: {netres.Subnets + "/delete", h.deleteSubnet}}},
		resourceType{paths: paths(group+"/providers/microsoft.network/**", group+"/providers/microsoft.compute/**", group+"/providers/microsoft.containerregistry/**"),
			on: methods{"": {serve: unknownNetworkType}}},
	)
}

// inGroup is the ID of the path's resource of type typ (its name at segment
// 7) in the resolved group, spelt as these IDs have always been.
func inGroup(c *call, typ string) string {
	return "/subscriptions/" + c.subID() + "/resourcegroups/" + c.group.Name + "/providers/" + typ + "/" + c.segs[7]
}

// listScope is where a list at subscription or group scope looks.
func listScope(c *call) string {
	if c.group.Name != "" {
		return c.group.ID
	}
	return subscriptionID(c)
}

// subscriptionID is the resolved subscription's scope.
func subscriptionID(c *call) string { return "/subscriptions/" + c.subID() }

// anyScope is the resolved scope of a Microsoft.Authorization path.
func anyScope(c *call) string { return c.scope }
