package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// TestManagedIdentityThroughProxy: `az identity create` makes a
// user-assigned identity; once `aksid host create --identity` assigns it
// to a VM, azidentity's ManagedIdentityCredential reaches the IMDS face
// through HTTP_PROXY naming that VM and gets tokens for it, which ARM
// honours under RBAC like any principal's; before, it gets none.
func TestManagedIdentityThroughProxy(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	az := newProxyAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], in.env["AZURE_TENANT_ID"])
	az.ok("group", "create", "-n", "mi-rg", "-l", "westus2", "-o", "none")
	// Microsoft.ManagedIdentity is not registered: aksid answers
	// MissingSubscriptionRegistration and az registers it and retries, as
	// against Azure.
	var ident struct {
		ID                              string
		Properties                      struct{ ClientID, PrincipalID, TenantID string } // az prints these at the top level
		ClientID, PrincipalID, TenantID string
	}
	az.json(&ident, "identity", "create", "-g", "mi-rg", "-n", "app-identity")
	ident.Properties.ClientID, ident.Properties.PrincipalID, ident.Properties.TenantID = ident.ClientID, ident.PrincipalID, ident.TenantID
	if ident.Properties.ClientID == "" || ident.Properties.PrincipalID == "" || !strings.Contains(ident.ID, "/userAssignedIdentities/app-identity") {
		t.Fatalf("identity: %+v", ident)
	}
	if st := az.ok("provider", "show", "-n", "Microsoft.ManagedIdentity", "--query", "registrationState", "-o", "tsv"); st != "Registered" ||
		!strings.Contains(in.logText(), "status=409") {
		t.Fatalf("az did not go through registration: %q", st)
	}
	sub := in.env["AKSID_SUBSCRIPTION_ID"]
	assign(t, az, "/subscriptions/"+sub+"/resourceGroups/mi-rg", readerRole, ident.Properties.PrincipalID, "ServicePrincipal")

	// The identity is assigned to no host yet: a caller speaking for the
	// default host (HTTP_PROXY without credentials) cannot use it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	scopes := policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}
	unassigned, _ := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: in.hostTransport(t, in.httpProxy(t))}, ID: azidentity.ClientID(ident.Properties.ClientID)})
	if _, err := unassigned.GetToken(ctx, scopes); err == nil || !strings.Contains(err.Error(), "Identity not found") {
		t.Fatalf("an unassigned identity: %v", err)
	}
	// Assigned to an emulated VM, its callers get tokens for it.
	hostCreate(t, in, "app-vm", "--identity", ident.ID)
	hc := in.hostTransport(t, hostEnv(t, in, "app-vm")["HTTP_PROXY"])
	opts := azcore.ClientOptions{Transport: hc}
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: opts, ID: azidentity.ClientID(ident.Properties.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	tok := getToken(t, cred, "https://management.azure.com/.default")
	c := claimsOf(t, tok.Token)
	if c["oid"] != ident.Properties.PrincipalID || c["appid"] != ident.Properties.ClientID || c["idtyp"] != "app" ||
		!strings.EqualFold(c["xms_mirid"].(string), ident.ID) || c["iss"] != "https://sts.windows.net/"+in.env["AZURE_TENANT_ID"]+"/" {
		t.Fatalf("managed identity token: %v", c)
	}
	groups, err := armresources.NewResourceGroupsClient(sub, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	g, err := groups.Get(context.Background(), "mi-rg", nil)
	if err != nil || *g.Name != "mi-rg" {
		t.Fatalf("the identity cannot read its group: %v", err)
	}
	var re *azcore.ResponseError
	if _, err := groups.CreateOrUpdate(context.Background(), "mi-other", armresources.ResourceGroup{Location: new("westus2")}, nil); err == nil {
		t.Fatal("a Reader identity created a group")
	} else if !asResponseError(err, &re) || re.ErrorCode != "AuthorizationFailed" {
		t.Fatalf("create group: %v", err)
	}

	// Unknown identities, and a request without Metadata: true, get IMDS's answers.
	unknown, _ := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: opts, ID: azidentity.ClientID("0b0b0b0b-2222-3333-4444-555555555555")})
	if _, err := unknown.GetToken(ctx, scopes); err == nil || !strings.Contains(err.Error(), "Identity not found") {
		t.Fatalf("unknown identity: %v", err)
	}
	resp, err := hc.Get("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("no Metadata header: %d", resp.StatusCode)
	}

	// Deleting the group deletes the identity and its principal.
	az.ok("group", "delete", "-n", "mi-rg", "--yes")
	if st, _ := in.rawToken(ident.Properties.ClientID, "x", armScope); st != 400 {
		t.Fatalf("the identity's principal survived its group: %d", st)
	}
}

func asResponseError(err error, re **azcore.ResponseError) bool {
	e, ok := err.(*azcore.ResponseError)
	if !ok {
		return false
	}
	*re = e
	return true
}
