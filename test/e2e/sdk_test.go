package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/uuid"
)

// armOptions points the Azure SDK for Go's ARM clients at aksid.
func (in *instance) armOptions() *arm.ClientOptions {
	o := in.azOptions()
	o.Cloud.Services = map[cloud.ServiceName]cloud.ServiceConfiguration{
		cloud.ResourceManager: {Endpoint: in.url, Audience: "https://management.core.windows.net/"},
	}
	return &arm.ClientOptions{ClientOptions: o}
}

// graphObjectID finds a service principal's object ID through Graph.
func (in *instance) graphObjectID(t *testing.T, cred azcore.TokenCredential, appID string) string {
	t.Helper()
	tok := getToken(t, cred, "https://graph.microsoft.com/.default")
	req, _ := http.NewRequest("GET", in.url+"/v1.0/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+appID+"'"), nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := in.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Value []struct{ ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Value) != 1 {
		t.Fatalf("graph lookup of %s: %d %v %v", appID, resp.StatusCode, body, err)
	}
	return body.Value[0].ID
}

// TestGoSDKRoleAssignments: the Azure SDK for Go (armresources,
// armauthorization) sends the role-assignment requests az would, and the
// grant it makes is enforced.
func TestGoSDKRoleAssignments(t *testing.T) {
	in := start(t, "")
	ctx := context.Background()
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	admin := in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"])
	opts := in.armOptions()

	groups, err := armresources.NewResourceGroupsClient(sub, admin, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateOrUpdate(ctx, "sdk-rg", armresources.ResourceGroup{Location: to.Ptr("westus2")}, nil); err != nil {
		t.Fatal(err)
	}
	scope := "/subscriptions/" + sub + "/resourceGroups/sdk-rg"

	defs, err := armauthorization.NewRoleDefinitionsClient(admin, opts)
	if err != nil {
		t.Fatal(err)
	}
	pager := defs.NewListPager(scope, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq 'contributor'")})
	page, err := pager.NextPage(ctx)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Properties.RoleName != "Contributor" {
		t.Fatalf("role lookup: %v %v", page.Value, err)
	}
	contributor := *page.Value[0].ID

	worker := in.createSP("sdk-worker")
	oid := in.graphObjectID(t, admin, worker.AppID)
	workerCred := in.secretCredential(t, worker.AppID, worker.Password)
	workerGroups, _ := armresources.NewResourceGroupsClient(sub, workerCred, opts)
	update := armresources.ResourceGroupPatchable{Tags: map[string]*string{"by": to.Ptr("sdk")}}
	var re *azcore.ResponseError
	if _, err := workerGroups.Update(ctx, "sdk-rg", update, nil); !errors.As(err, &re) || re.StatusCode != 403 || re.ErrorCode != "AuthorizationFailed" {
		t.Fatalf("before the grant: %v", err)
	}

	assignments, err := armauthorization.NewRoleAssignmentsClient(sub, admin, opts)
	if err != nil {
		t.Fatal(err)
	}
	name := uuid.NewString()
	params := armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: to.Ptr(contributor), PrincipalID: to.Ptr(oid), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}
	created, err := assignments.Create(ctx, scope, name, params, nil)
	if err != nil || *created.Name != name || *created.Properties.PrincipalID != oid {
		t.Fatalf("create: %+v %v", created, err)
	}
	if _, err := assignments.Create(ctx, scope, uuid.NewString(), params, nil); !errors.As(err, &re) || re.StatusCode != 409 || re.ErrorCode != "RoleAssignmentExists" {
		t.Fatalf("duplicate: %v", err)
	}
	list := assignments.NewListForScopePager(scope, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("principalId eq '" + oid + "'")})
	lp, err := list.NextPage(ctx)
	if err != nil || len(lp.Value) != 1 || *lp.Value[0].Name != name {
		t.Fatalf("list: %v %v", lp.Value, err)
	}
	// The worker's token is cached by azidentity; the grant works at once
	// because aksid decides on every request.
	got, err := workerGroups.Update(ctx, "sdk-rg", update, nil)
	if err != nil || *got.Tags["by"] != "sdk" {
		t.Fatalf("after the grant: %v", err)
	}
	if _, err := assignments.Delete(ctx, scope, name, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := workerGroups.Update(ctx, "sdk-rg", update, nil); !errors.As(err, &re) || re.StatusCode != 403 {
		t.Fatalf("after the revocation: %v", err)
	}

	// What `az aks update --attach-acr` does past the step where Debian's
	// az crashes: look AcrPull up by its lower-case name at the registry
	// and assign it to the cluster's kubelet identity.
	providers, _ := armresources.NewProvidersClient(sub, admin, opts)
	if _, err := providers.Register(ctx, "Microsoft.ContainerRegistry", nil); err != nil {
		t.Fatal(err)
	}
	registry := scope + "/providers/Microsoft.ContainerRegistry/registries/sdkacr"
	tok := getToken(t, admin, "https://management.azure.com/.default")
	req, _ := http.NewRequest("PUT", in.url+registry+"?api-version=2022-02-01-preview", strings.NewReader(`{"location":"westus2","sku":{"name":"Basic"}}`))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := in.client.Do(req); err != nil || resp.StatusCode != 201 {
		t.Fatalf("registry: %v %v", resp, err)
	}
	acrPager := defs.NewListPager(registry, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq 'acrpull'")})
	acrPage, err := acrPager.NextPage(ctx)
	if err != nil || len(acrPage.Value) != 1 || *acrPage.Value[0].Name != "7f951dda-4ed3-4680-a7ca-43fe172d538d" {
		t.Fatalf("acrpull lookup: %v %v", acrPage.Value, err)
	}
	pull, err := assignments.Create(ctx, registry, uuid.NewString(), armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: acrPage.Value[0].ID, PrincipalID: to.Ptr(oid), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal)}}, nil)
	if err != nil || !strings.EqualFold(*pull.Properties.Scope, registry) {
		t.Fatalf("AcrPull at the registry: %+v %v", pull, err)
	}
}
