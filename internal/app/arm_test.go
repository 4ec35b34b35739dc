package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// token gets a client-credentials token for scope from the test server.
func (s *testServer) token(t *testing.T, appID, secret, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {appID}, "client_secret": {secret}, "scope": {scope}}
	status, m, raw := s.post(t, "/"+s.Creds.TenantID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", form.Encode())
	if status != 200 {
		t.Fatalf("token: %d %s", status, raw)
	}
	return m["access_token"].(string)
}

func (s *testServer) arm(t *testing.T, token, method, path, body string) (int, map[string]any, string) {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req, _ = http.NewRequest(method, s.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, _ = http.NewRequest(method, s.URL+path, nil)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.do(t, req)
}

// armWant is arm expecting the status want; it returns the body.
func (s *testServer) armWant(t *testing.T, token, method, path, body string, want int) map[string]any {
	t.Helper()
	st, m, raw := s.arm(t, token, method, path, body)
	if st != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, st, want, raw)
	}
	return m
}

// TestARMRefusesBadInputWithAzureCodes: every refusal is ARM's error
// body with Azure's code, never a 5xx, and nothing is half-written.
func TestARMRefusesBadInputWithAzureCodes(t *testing.T) {
	s := startTest(t)
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	graphTok := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://graph.microsoft.com/.default")
	if st, _, raw := s.arm(t, admin, "PUT", sub+"/resourcegroups/rg1?api-version=2021-04-01", `{"location":"westus2"}`); st != 201 {
		t.Fatalf("create group: %d %s", st, raw)
	}
	other := sub + "/providers/Microsoft.Authorization/roleAssignments/"
	owner := sub + "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	assign := func(principal, role string) string {
		return `{"properties":{"roleDefinitionId":"` + role + `","principalId":"` + principal + `","principalType":"ServicePrincipal"}}`
	}
	// The admin's own object ID, from an existing assignment.
	_, list, _ := s.arm(t, admin, "GET", sub+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()", "")
	adminOID := list["value"].([]any)[0].(map[string]any)["properties"].(map[string]any)["principalId"].(string)
	dup := "c0ffee00-0000-4000-8000-000000000001"
	if st, _, raw := s.arm(t, admin, "PUT", sub+"/resourceGroups/rg1/providers/Microsoft.Authorization/roleAssignments/"+dup+"?api-version=2022-04-01", assign(adminOID, owner)); st != 201 {
		t.Fatalf("assignment: %d %s", st, raw)
	}
	cases := []struct {
		name, token, method, path, body string
		status                          int
		code                            string
	}{
		{"no token", "", "GET", sub + "?api-version=2020-01-01", "", 401, "AuthenticationFailed"},
		{"garbage token", "not.a.jwt", "GET", sub + "?api-version=2020-01-01", "", 401, "InvalidAuthenticationToken"},
		{"Graph token on ARM", graphTok, "GET", sub + "?api-version=2020-01-01", "", 401, "InvalidAuthenticationTokenAudience"},
		{"missing api-version", admin, "GET", sub + "/resourcegroups", "", 400, "MissingApiVersionParameter"},
		{"unsupported api-version", admin, "GET", sub + "/resourcegroups?api-version=1999-01-01", "", 400, "InvalidApiVersionParameter"},
		{"unknown subscription", admin, "GET", "/subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups?api-version=2021-04-01", "", 404, "SubscriptionNotFound"},
		{"unknown group", admin, "GET", sub + "/resourceGroups/nope?api-version=2021-04-01", "", 404, "ResourceGroupNotFound"},
		{"invalid JSON", admin, "PUT", sub + "/resourcegroups/rg2?api-version=2021-04-01", `{"location":`, 400, "InvalidRequestContent"},
		{"wrong JSON type", admin, "PUT", sub + "/resourcegroups/rg2?api-version=2021-04-01", `{"location":7}`, 400, "InvalidRequestContent"},
		{"no location", admin, "PUT", sub + "/resourcegroups/rg2?api-version=2021-04-01", `{}`, 400, "LocationRequired"},
		{"unknown location", admin, "PUT", sub + "/resourcegroups/rg2?api-version=2021-04-01", `{"location":"mars"}`, 400, "LocationNotAvailableForResourceGroup"},
		{"moved location", admin, "PUT", sub + "/resourcegroups/rg1?api-version=2021-04-01", `{"location":"eastus"}`, 409, "InvalidResourceGroupLocation"},
		{"bad resources filter", admin, "GET", sub + "/resources?api-version=2021-04-01&$filter=" + url.QueryEscape("resourceType ne 'x'"), "", 400, "InvalidFilterInQueryString"},
		{"unknown namespace", admin, "POST", sub + "/providers/Microsoft.Nope/register?api-version=2021-04-01", "", 404, "InvalidResourceNamespace"},
		{"unknown feature", admin, "GET", sub + "/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/Nope?api-version=2021-07-01", "", 404, "FeatureNotFound"},
		{"unknown role", admin, "PUT", other + "c0ffee00-0000-4000-8000-000000000002?api-version=2022-04-01", assign(adminOID, sub+"/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-4000-8000-000000000000"), 404, "RoleDefinitionDoesNotExist"},
		{"unknown principal", admin, "PUT", other + "c0ffee00-0000-4000-8000-000000000003?api-version=2022-04-01", assign("0b0b0b0b-2222-3333-4444-555555555555", owner), 400, "PrincipalNotFound"},
		{"duplicate assignment", admin, "PUT", sub + "/resourceGroups/rg1/providers/Microsoft.Authorization/roleAssignments/c0ffee00-0000-4000-8000-000000000004?api-version=2022-04-01", assign(adminOID, owner), 409, "RoleAssignmentExists"},
		{"assignment name not a GUID", admin, "PUT", other + "not-a-guid?api-version=2022-04-01", assign(adminOID, owner), 400, "InvalidRoleAssignmentId"},
		{"malformed scope", admin, "GET", sub + "/bogus/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", "", 400, "InvalidResourceId"},
		{"assignment filter syntax", admin, "GET", other[:len(other)-1] + "?api-version=2022-04-01&$filter=" + url.QueryEscape("principalId eq"), "", 400, "InvalidFilter"},
		{"custom role outside its scopes", admin, "PUT", sub + "/providers/Microsoft.Authorization/roleDefinitions/c0ffee00-0000-4000-8000-000000000005?api-version=2022-04-01",
			`{"properties":{"roleName":"x","permissions":[{"actions":["*/read"]}],"assignableScopes":["/subscriptions/00000000-1111-2222-3333-444444444444"]}}`, 404, "SubscriptionNotFound"},
		{"unknown path", admin, "GET", sub + "/nothing?api-version=2021-04-01", "", 404, "NotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, m, raw := s.arm(t, c.token, c.method, c.path, c.body)
			e, _ := m["error"].(map[string]any)
			if status != c.status || e == nil || e["message"] == "" || (c.code != "" && e["code"] != c.code) {
				t.Fatalf("got %d %s, want %d %s", status, raw, c.status, c.code)
			}
			for _, leak := range []string{".go:", "sql", "goroutine"} {
				if strings.Contains(strings.ToLower(raw), leak) {
					t.Fatalf("body leaks %q: %s", leak, raw)
				}
			}
		})
	}
	// Nothing half-written: the refused group and role do not exist.
	if st, _, _ := s.arm(t, admin, "GET", sub+"/resourceGroups/rg2?api-version=2021-04-01", ""); st != 404 {
		t.Fatalf("refused group exists: %d", st)
	}
	if st, _, _ := s.arm(t, admin, "GET", sub+"/providers/Microsoft.Authorization/roleDefinitions/c0ffee00-0000-4000-8000-000000000005?api-version=2022-04-01", ""); st != 404 {
		t.Fatalf("refused role exists: %d", st)
	}
	// A principal without any role is denied with Azure's message.
	sp, err := s.Ops.CreateSP(t.Context(), "nobody", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.token(t, sp.AppID, *sp.Password, "https://management.azure.com/.default")
	status, m, raw := s.arm(t, tok, "PUT", sub+"/resourcegroups/rg3?api-version=2021-04-01", `{"location":"westus2"}`)
	msg, _ := m["error"].(map[string]any)["message"].(string)
	if status != 403 || !strings.Contains(msg, "does not have authorization to perform action 'Microsoft.Resources/subscriptions/resourceGroups/write' over scope '"+sub+"/resourceGroups/rg3' or the scope is invalid.") {
		t.Fatalf("denied: %d %s", status, raw)
	}
	if status, m, _ := s.arm(t, tok, "GET", "/subscriptions?api-version=2020-01-01", ""); status != 200 || len(m["value"].([]any)) != 0 {
		t.Fatalf("a principal with no role sees subscriptions: %v", m)
	}
}

func TestMetadataEndpoints(t *testing.T) {
	s := startTest(t)
	_, m, raw := s.arm(t, "", "GET", "//metadata/endpoints?api-version=2015-01-01", "")
	auth, _ := m["authentication"].(map[string]any)
	if auth == nil || auth["loginEndpoint"] != s.URL+"/" {
		t.Fatalf("object form: %s", raw)
	}
	req, _ := http.NewRequest("GET", s.URL+"/metadata/endpoints?api-version=2019-05-01", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var arr []map[string]any
	if err := jsonDecode(resp, &arr); err != nil || len(arr) != 1 || arr[0]["resourceManager"] != s.URL+"/" || arr[0]["microsoftGraphResourceId"] != s.URL+"/" {
		t.Fatalf("array form: %v %v", arr, err)
	}
}

// TestLongRunningOperations: a group deletion answers 202 with
// Azure-AsyncOperation, Location and Retry-After; the status document says
// Succeeded and the Location answers 200, as azure-core's pollers expect.
func TestLongRunningOperations(t *testing.T) {
	s := startTest(t)
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	if st, _, raw := s.arm(t, admin, "PUT", sub+"/resourcegroups/lro?api-version=2021-04-01", `{"location":"westus2"}`); st != 201 {
		t.Fatalf("create: %d %s", st, raw)
	}
	req, _ := http.NewRequest("DELETE", s.URL+sub+"/resourcegroups/lro?api-version=2021-04-01", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	async, location := resp.Header.Get("Azure-AsyncOperation"), resp.Header.Get("Location")
	if resp.StatusCode != 202 || resp.Header.Get("Retry-After") != "1" || !strings.HasPrefix(async, s.URL+sub+"/providers/Microsoft.Resources/locations/westus2/operations/") || location == "" {
		t.Fatalf("delete: %d %v", resp.StatusCode, resp.Header)
	}
	st, m, raw := s.arm(t, admin, "GET", strings.TrimPrefix(async, s.URL), "")
	if st != 200 || m["status"] != "Succeeded" || m["startTime"] == nil || m["endTime"] == nil {
		t.Fatalf("status: %d %s", st, raw)
	}
	if st, _, raw := s.arm(t, admin, "GET", strings.TrimPrefix(location, s.URL), ""); st != 200 {
		t.Fatalf("location: %d %s", st, raw)
	}
	if st, _, _ := s.arm(t, admin, "GET", sub+"/resourcegroups/lro?api-version=2021-04-01", ""); st != 404 {
		t.Fatalf("group still there: %d", st)
	}
	bogus := sub + "/providers/Microsoft.Resources/locations/westus2/operations/00000000-0000-4000-8000-000000000000?api-version=2021-04-01"
	if st, m, raw := s.arm(t, admin, "GET", bogus, ""); st != 404 || m["error"].(map[string]any)["code"] != "OperationNotFound" {
		t.Fatalf("unknown operation: %d %s", st, raw)
	}
}

// TestClusterPutRefusesJunkBodies: a cluster PUT whose body is null or
// whose properties are not an object is 400 InvalidRequestContent (a
// null body once panicked into a 500), as the other resource types answer,
// and no cluster is made.
func TestClusterPutRefusesJunkBodies(t *testing.T) {
	s := startTest(t)
	sub := "/subscriptions/" + s.Creds.SubscriptionID
	admin := s.token(t, s.Creds.ClientID, s.Creds.ClientSecret, "https://management.core.windows.net//.default")
	for _, step := range []struct{ method, path, body string }{
		{"PUT", sub + "/resourcegroups/junk?api-version=2021-04-01", `{"location":"westus2"}`},
		{"POST", sub + "/providers/Microsoft.ContainerService/register?api-version=2021-04-01", ""},
	} {
		if st, _, raw := s.arm(t, admin, step.method, step.path, step.body); st >= 300 {
			t.Fatalf("%s %s: %d %s", step.method, step.path, st, raw)
		}
	}
	cluster := sub + "/resourceGroups/junk/providers/Microsoft.ContainerService/managedClusters/c?api-version=2024-02-01"
	for _, body := range []string{`null`, `"x"`, `[]`, `{"location":"westus2","properties":"x"}`, `{"location":"westus2","properties":true}`} {
		st, m, raw := s.arm(t, admin, "PUT", cluster, body)
		if e, _ := m["error"].(map[string]any); st != 400 || e["code"] != "InvalidRequestContent" || strings.Contains(raw, ".go:") {
			t.Fatalf("body %s: %d %s", body, st, raw)
		}
	}
	if st, _, raw := s.arm(t, admin, "GET", cluster, ""); st != 404 {
		t.Fatalf("a refused body made a cluster: %d %s", st, raw)
	}
}
