package app

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestIdentityFederatedCredentialsThroughARM: a user-assigned identity's
// federated credentials as az and the SDKs manage them, with the
// api-version check, validation, RBAC, and removal with the identity.
func TestIdentityFederatedCredentialsThroughARM(t *testing.T) {
	s := startTest(t)
	ctx := context.Background()
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	expect := func(tok, method, path, body string, status int, code string) map[string]any {
		t.Helper()
		st, m, raw := s.arm(t, tok, method, path, body)
		if st != status {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, st, status, raw)
		}
		if code != "" {
			if e, _ := m["error"].(map[string]any); e == nil || e["code"] != code || e["message"] == "" {
				t.Fatalf("%s %s: %s, want code %s", method, path, raw, code)
			}
		}
		return m
	}
	expect(admin, "PUT", sub+"/resourcegroups/rg?api-version=2021-04-01", `{"location":"westus2"}`, 201, "")
	expect(admin, "POST", sub+"/providers/Microsoft.ManagedIdentity/register?api-version=2021-04-01", "", 200, "")
	ident := sub + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/wl-id"
	mi := expect(admin, "PUT", ident+"?api-version=2023-01-31", `{"location":"westus2"}`, 201, "")
	clientID := mi["properties"].(map[string]any)["clientId"].(string)
	fics := ident + "/federatedIdentityCredentials"
	issuer := "https://westus2.oic.prod-aks.azure.com/" + s.Creds.TenantID + "/0c0c0c0c-0000-4000-8000-000000000001/"
	body := func(subject string) string {
		return `{"properties":{"issuer":"` + issuer + `","subject":"` + subject + `","audiences":["api://AzureADTokenExchange"]}}`
	}

	// az 2.45 sends 2022-01-31-preview; created, then replaced in place.
	f := expect(admin, "PUT", fics+"/kube?api-version=2022-01-31-preview", body("system:serviceaccount:default:wl"), 201, "")
	p, _ := f["properties"].(map[string]any)
	if !strings.EqualFold(f["id"].(string), fics+"/kube") || f["name"] != "kube" ||
		f["type"] != "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials" || p["issuer"] != issuer ||
		p["subject"] != "system:serviceaccount:default:wl" || len(p["audiences"].([]any)) != 1 {
		t.Fatalf("created %v", f)
	}
	expect(admin, "PUT", fics+"/kube?api-version=2023-01-31", body("system:serviceaccount:apps:wl"), 200, "")
	got := expect(admin, "GET", fics+"/kube?api-version=2023-07-31-preview", "", 200, "")
	if got["properties"].(map[string]any)["subject"] != "system:serviceaccount:apps:wl" {
		t.Fatalf("after replace %v", got)
	}
	if l := expect(admin, "GET", fics+"?api-version=2023-01-31", "", 200, "")["value"].([]any); len(l) != 1 {
		t.Fatalf("list %v", l)
	}
	// The directory holds it on the identity's registration, for the token service.
	if list, err := s.Ops.dir.FederatedCredentials(ctx, clientID); err != nil || len(list) != 1 || list[0].Subject != "system:serviceaccount:apps:wl" {
		t.Fatalf("directory: %v %v", list, err)
	}

	// Refusals with ARM's codes; nothing written.
	expect(admin, "PUT", fics+"/other?api-version=2018-11-30", body("x"), 400, "InvalidApiVersionParameter")
	expect(admin, "PUT", fics+"/other", body("x"), 400, "")
	expect(admin, "PUT", fics+"/a?api-version=2023-01-31", body("x"), 400, "InvalidResourceName")
	expect(admin, "PUT", fics+"/other?api-version=2023-01-31", `{"properties":{"issuer":"http://insecure.test","subject":"x","audiences":["api://AzureADTokenExchange"]}}`, 400, "BadRequest")
	expect(admin, "PUT", fics+"/other?api-version=2023-01-31", `{"properties":{"issuer":"`+issuer+`","audiences":["api://AzureADTokenExchange"]}}`, 400, "BadRequest")
	expect(admin, "PUT", fics+"/other?api-version=2023-01-31", `{"properties":{"issuer":"`+issuer+`","subject":"x","audiences":["a","b"]}}`, 400, "BadRequest")
	expect(admin, "PUT", fics+"/other?api-version=2023-01-31", `{"properties":{"issuer":"`+issuer+`","subject":"x"}}`, 400, "BadRequest")
	expect(admin, "PUT", fics+"/other?api-version=2023-01-31", `{}`, 400, "BadRequest")
	expect(admin, "PUT", fics+"/other?api-version=2023-01-31", `{"properties":`, 400, "InvalidRequestContent")
	expect(admin, "PUT", sub+"/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope/federatedIdentityCredentials/kube?api-version=2023-01-31",
		body("x"), 404, "ParentResourceNotFound")
	expect(admin, "GET", fics+"/missing?api-version=2023-01-31", "", 404, "ResourceNotFound")
	expect(admin, "POST", fics+"?api-version=2023-01-31", "", 405, "MethodNotAllowed")
	if l := expect(admin, "GET", fics+"?api-version=2023-01-31", "", 200, "")["value"].([]any); len(l) != 1 {
		t.Fatalf("refusals wrote: %v", l)
	}

	// RBAC: a Reader of the group reads, but neither writes nor deletes.
	sp, err := s.Ops.CreateSP(ctx, "reader", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	spObj, err := s.Ops.dir.ServicePrincipal(ctx, s.Creds.TenantID, sp.AppID)
	if err != nil {
		t.Fatal(err)
	}
	expect(admin, "PUT", sub+"/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
		`{"properties":{"roleDefinitionId":"`+sub+`/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"`+spObj.ObjectID+`","principalType":"ServicePrincipal"}}`, 201, "")
	reader := s.token(t, sp.AppID, *sp.Password, "https://management.core.windows.net//.default")
	expect(reader, "GET", fics+"/kube?api-version=2023-01-31", "", 200, "")
	if l := expect(reader, "GET", fics+"?api-version=2023-01-31", "", 200, "")["value"].([]any); len(l) != 1 {
		t.Fatalf("reader's list %v", l)
	}
	m := expect(reader, "PUT", fics+"/evil?api-version=2023-01-31", body("system:serviceaccount:default:evil"), 403, "AuthorizationFailed")
	if !strings.Contains(m["error"].(map[string]any)["message"].(string), "federatedIdentityCredentials/write") {
		t.Fatalf("denial names the action: %v", m)
	}
	expect(reader, "DELETE", fics+"/kube?api-version=2023-01-31", "", 403, "AuthorizationFailed")

	// Delete: 200, then 204; deleting the identity takes its credentials.
	expect(admin, "PUT", fics+"/second?api-version=2023-01-31", body("system:serviceaccount:default:two"), 201, "")
	expect(admin, "DELETE", fics+"/second?api-version=2023-01-31", "", 200, "")
	expect(admin, "DELETE", fics+"/second?api-version=2023-01-31", "", 204, "")
	expect(admin, "DELETE", ident+"?api-version=2023-01-31", "", 200, "")
	if _, err := s.Ops.dir.FederatedCredentials(ctx, clientID); err == nil {
		t.Fatal("the identity's credentials outlived it")
	}
	expect(admin, "GET", fics+"?api-version=2023-01-31", "", 404, "ParentResourceNotFound")
	expect(admin, "PUT", ident+"?api-version=2023-01-31", `{"location":"westus2"}`, 201, "")
	if l := expect(admin, "GET", fics+"?api-version=2023-01-31", "", 200, "")["value"].([]any); len(l) != 0 {
		t.Fatalf("a new identity of the same name inherited credentials: %v", l)
	}
}
