package aksidtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/aksid/aksid/aksidtest"
)

// A test as a team would write it: a pipeline's principal is refused a
// resource group until it is given Contributor, then allowed.
func TestPrincipalNeedsARoleAssignment(t *testing.T) {
	began := time.Now()
	srv := aksidtest.New(t)
	ctx := context.Background()
	ci := srv.ServicePrincipal("ci-pipeline")

	tok, err := ci.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil || tok.Token == "" {
		t.Fatalf("token: %v", err)
	}
	groups, err := armresources.NewResourceGroupsClient(srv.SubscriptionID, ci.Credential, srv.ARMOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, err = groups.CreateOrUpdate(ctx, "ci-rg", armresources.ResourceGroup{Location: to.Ptr("westus2")}, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || re.ErrorCode != "AuthorizationFailed" {
		t.Fatalf("without a role: %v, want 403 AuthorizationFailed", err)
	}

	srv.Grant(ci.ObjectID, "Contributor", "/subscriptions/"+srv.SubscriptionID)
	if _, err := groups.CreateOrUpdate(ctx, "ci-rg", armresources.ResourceGroup{Location: to.Ptr("westus2")}, nil); err != nil {
		t.Fatalf("with Contributor: %v", err)
	}
	t.Logf("server, principal, token, a refusal, an assignment and a group in %v", time.Since(began).Round(time.Millisecond))
}

// The clock moves and users sign in, as the helpers promise.
func TestHelpers(t *testing.T) {
	srv := aksidtest.New(t)
	u := srv.User("dev")
	if u.UPN != "dev@aksid.local" || u.Password == "" || u.ObjectID == "" {
		t.Errorf("user %+v", u)
	}
	before := srv.Now()
	srv.AdvanceClock(366 * 24 * time.Hour)
	if got := srv.Now().Sub(before); got < 366*24*time.Hour {
		t.Errorf("the clock moved %v", got)
	}
	// A principal made before the move has a one-year secret, now expired.
	p := srv.ServicePrincipal("old")
	srv.AdvanceClock(366 * 24 * time.Hour)
	_, err := p.Credential.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err == nil {
		t.Fatal("an expired secret got a token")
	}
}

// BenchmarkNew times New to a server ready to answer; the servers stop
// when the benchmark ends.
func BenchmarkNew(b *testing.B) {
	for range b.N {
		aksidtest.New(b)
	}
}
