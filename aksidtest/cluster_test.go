package aksidtest_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/aksid/aksid/aksidtest"
)

// Cluster makes a provisioned cluster in a group that already exists
// (left as it was), with its identities; Grant gives a principal a role
// on it by name, and only then may the principal read it.
func TestClusterAndGrant(t *testing.T) {
	began := time.Now()
	srv := aksidtest.New(t)
	ctx := context.Background()
	groups, err := armresources.NewResourceGroupsClient(srv.SubscriptionID, srv.Credential, srv.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "team-rg", armresources.ResourceGroup{Location: to.Ptr("eastus"),
		Tags: map[string]*string{"owner": to.Ptr("team")}}, nil); err != nil {
		t.Fatal(err)
	}

	c := srv.Cluster("team-rg", "dev")
	wantID := "/subscriptions/" + srv.SubscriptionID + "/resourcegroups/team-rg/providers/microsoft.containerservice/managedclusters/dev"
	if !strings.EqualFold(c.ID, wantID) || c.Name != "dev" || c.Group != "team-rg" {
		t.Errorf("cluster %+v, want ID %s", c, wantID)
	}
	if c.FQDN == "" || c.PrincipalID == "" || c.Kubelet.ClientID == "" || c.Kubelet.ObjectID == "" || c.NodeResourceGroup == "" ||
		!strings.Contains(strings.ToLower(c.Kubelet.ResourceID), "/resourcegroups/"+strings.ToLower(c.NodeResourceGroup)+"/") {
		t.Errorf("cluster %+v lacks its identities", c)
	}
	// In the group's location, not aksidtest.Location.
	if !regexp.MustCompile(`^https://eastus\.oic\.prod-aks\.azure\.com/` + srv.TenantID + `/[0-9a-f-]{36}/$`).MatchString(c.OIDCIssuerURL) {
		t.Errorf("OIDC issuer %q", c.OIDCIssuerURL)
	}
	g, err := groups.Get(ctx, "team-rg", nil)
	if err != nil || *g.Location != "eastus" || g.Tags["owner"] == nil || *g.Tags["owner"] != "team" {
		t.Errorf("the existing group changed: %v %+v", err, g)
	}

	// The cluster as any ARM client reads it.
	res, err := armresources.NewClient(srv.SubscriptionID, srv.Credential, srv.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := res.GetByID(ctx, c.ID, "2024-02-01", nil)
	if err != nil {
		t.Fatal(err)
	}
	if props, _ := got.Properties.(map[string]any); props["provisioningState"] != "Succeeded" {
		t.Errorf("provisioningState %v", props["provisioningState"])
	}
	if got.Identity == nil || got.Identity.PrincipalID == nil || *got.Identity.PrincipalID != c.PrincipalID {
		t.Errorf("identity %+v, want principal %s", got.Identity, c.PrincipalID)
	}

	// A principal reads the cluster only once granted a role on it.
	dev := srv.ServicePrincipal("dev-reader")
	asDev, err := armresources.NewClient(srv.SubscriptionID, dev.Credential, srv.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = asDev.GetByID(ctx, c.ID, "2024-02-01", nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		t.Fatalf("without a role: %v, want 403", err)
	}
	if id := srv.Grant(dev.ObjectID, "Reader", c.ID); !strings.HasPrefix(strings.ToLower(id), strings.ToLower(c.ID)+"/providers/microsoft.authorization/roleassignments/") {
		t.Errorf("assignment ID %s", id)
	}
	if _, err := asDev.GetByID(ctx, c.ID, "2024-02-01", nil); err != nil {
		t.Fatalf("with Reader on the cluster: %v", err)
	}
	t.Logf("server, cluster, principal, refusal, grant and read in %v", time.Since(began).Round(time.Millisecond))
}
