package aksidtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/uuid"
)

// Location is where Cluster puts the groups it makes.
const Location = "westus2"

// clusterAPIVersion is the managedClusters API version Cluster speaks.
const clusterAPIVersion = "2024-02-01"

// Cluster is an AKS managed cluster, as Cluster made it.
type Cluster struct {
	ID    string // /subscriptions/…/resourceGroups/{Group}/providers/Microsoft.ContainerService/managedClusters/{Name}
	Name  string
	Group string
	FQDN  string // the API server's host name
	// PrincipalID is the object ID of the control plane's
	// system-assigned identity.
	PrincipalID string
	// Kubelet is the kubelet's identity in the node resource group.
	Kubelet Identity
	// NodeResourceGroup is the MC_ group holding the kubelet identity.
	NodeResourceGroup string
	// OIDCIssuerURL is the cluster's service-account issuer, which an
	// identity's federated credential names for workload identity.
	OIDCIssuerURL string
}

// Identity is a managed identity.
type Identity struct {
	ResourceID string
	ClientID   string
	ObjectID   string
}

// Cluster creates the resource group group in Location if it is
// missing, and in it, in the group's location, the managed cluster name
// as the admin, as
// `az aks create --enable-oidc-issuer --enable-workload-identity` does:
// a system-assigned control-plane identity, one node pool. It returns
// once ARM reports the cluster Succeeded. Its API server (a
// kube-apiserver process) starts in the background, as in Azure, and
// stops with the server: a test with a cluster ends a second or two later.
func (s *Server) Cluster(group, name string) Cluster {
	s.tb.Helper()
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(s.SubscriptionID, s.Credential, s.ARMOptions())
	if err != nil {
		s.tb.Fatalf("aksidtest: %v", err)
	}
	location := Location
	if g, err := groups.Get(ctx, group, nil); err == nil && g.Location != nil {
		location = *g.Location
	} else {
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
			s.tb.Fatalf("aksidtest: resource group %q: %v", group, err)
		}
		if _, err := groups.CreateOrUpdate(ctx, group, armresources.ResourceGroup{Location: to.Ptr(location)}, nil); err != nil {
			s.tb.Fatalf("aksidtest: resource group %q: %v", group, err)
		}
	}
	// A new subscription has not registered AKS's namespace yet, as in
	// Azure; registering again is harmless.
	providers, err := armresources.NewProvidersClient(s.SubscriptionID, s.Credential, s.ARMOptions())
	if err != nil {
		s.tb.Fatalf("aksidtest: %v", err)
	}
	if _, err := providers.Register(ctx, "Microsoft.ContainerService", nil); err != nil {
		s.tb.Fatalf("aksidtest: registering Microsoft.ContainerService: %v", err)
	}

	path := "/subscriptions/" + s.SubscriptionID + "/resourceGroups/" + group + "/providers/Microsoft.ContainerService/managedClusters/" + name +
		"?api-version=" + clusterAPIVersion
	body := fmt.Sprintf(`{"location":%q,"identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":%q,
		"agentPoolProfiles":[{"name":"nodepool1","count":1,"vmSize":"Standard_DS2_v2","mode":"System"}],
		"oidcIssuerProfile":{"enabled":true},"securityProfile":{"workloadIdentity":{"enabled":true}}}}`, location, name)
	var m clusterModel
	s.call(http.MethodPut, armScope, path, body, &m)
	// AKS's create is a long-running operation: read the cluster until
	// it is provisioned (aksid's answers Succeeded at once).
	for deadline := time.Now().Add(30 * time.Second); !strings.EqualFold(m.Properties.ProvisioningState, "Succeeded"); {
		if time.Now().After(deadline) {
			s.tb.Fatalf("aksidtest: cluster %s/%s still %q", group, name, m.Properties.ProvisioningState)
		}
		time.Sleep(50 * time.Millisecond)
		s.call(http.MethodGet, armScope, path, "", &m)
	}
	k := m.Properties.IdentityProfile.Kubelet
	return Cluster{ID: m.ID, Name: m.Name, Group: group, FQDN: m.Properties.FQDN, PrincipalID: m.Identity.PrincipalID,
		Kubelet:           Identity{ResourceID: k.ResourceID, ClientID: k.ClientID, ObjectID: k.ObjectID},
		NodeResourceGroup: m.Properties.NodeResourceGroup, OIDCIssuerURL: m.Properties.OIDCIssuerProfile.IssuerURL}
}

// clusterModel is what Cluster reads of ARM's answer.
type clusterModel struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Identity struct {
		PrincipalID string `json:"principalId"`
	} `json:"identity"`
	Properties struct {
		ProvisioningState string `json:"provisioningState"`
		FQDN              string `json:"fqdn"`
		NodeResourceGroup string `json:"nodeResourceGroup"`
		IdentityProfile   struct {
			Kubelet struct {
				ResourceID string `json:"resourceId"`
				ClientID   string `json:"clientId"`
				ObjectID   string `json:"objectId"`
			} `json:"kubeletidentity"`
		} `json:"identityProfile"`
		OIDCIssuerProfile struct {
			IssuerURL string `json:"issuerURL"`
		} `json:"oidcIssuerProfile"`
	} `json:"properties"`
}

// Grant assigns the built-in or custom role named roleName ("Contributor",
// "Azure Kubernetes Service RBAC Reader") to the principal with object ID
// principalID (a user's, a group's or a service principal's) at scope
// (an ARM resource ID: a subscription, a group, a cluster), as the admin.
// It returns the assignment's ID.
func (s *Server) Grant(principalID, roleName, scope string) string {
	s.tb.Helper()
	ctx := context.Background()
	defs, err := armauthorization.NewRoleDefinitionsClient(s.Credential, s.ARMOptions())
	if err != nil {
		s.tb.Fatalf("aksidtest: %v", err)
	}
	var defID string
	pager := defs.NewListPager(scope, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq '" + roleName + "'")})
	for pager.More() && defID == "" {
		page, err := pager.NextPage(ctx)
		if err != nil {
			s.tb.Fatalf("aksidtest: role %q at %s: %v", roleName, scope, err)
		}
		for _, d := range page.Value {
			if d.ID != nil && d.Properties != nil && d.Properties.RoleName != nil && strings.EqualFold(*d.Properties.RoleName, roleName) {
				defID = *d.ID
				break
			}
		}
	}
	if defID == "" {
		s.tb.Fatalf("aksidtest: no role named %q at %s", roleName, scope)
	}
	assignments, err := armauthorization.NewRoleAssignmentsClient(s.SubscriptionID, s.Credential, s.ARMOptions())
	if err != nil {
		s.tb.Fatalf("aksidtest: %v", err)
	}
	a, err := assignments.Create(ctx, scope, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{
		Properties: &armauthorization.RoleAssignmentProperties{RoleDefinitionID: to.Ptr(defID), PrincipalID: to.Ptr(principalID)}}, nil)
	if err != nil {
		s.tb.Fatalf("aksidtest: assigning %q to %s at %s: %v", roleName, principalID, scope, err)
	}
	return *a.ID
}
