package cloudprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/sts"
)

const (
	clusterID    = "/subscriptions/sub1/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	testSubnetID = "/subscriptions/sub1/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
	diskID       = "/subscriptions/sub1/resourceGroups/data/providers/Microsoft.Compute/disks/d1"
	acrID        = "/subscriptions/sub1/resourceGroups/data/providers/Microsoft.ContainerRegistry/registries/acr1"
)

type fakeClusters struct {
	cp     aks.ControlPlane
	events []aks.Event
}

func (f *fakeClusters) ControlPlane(_ context.Context, id string) (aks.ControlPlane, error) {
	if !strings.EqualFold(id, f.cp.ID) {
		return aks.ControlPlane{}, azerr.New(azerr.NotFound, "ResourceNotFound", "no cluster %s", id)
	}
	return f.cp, nil
}

func (f *fakeClusters) RecordEvent(_ context.Context, id string, e aks.Event) (aks.Event, error) {
	e.Cluster = id
	f.events = append(f.events, e)
	return e, nil
}

// fakeTokens hands out unsigned tokens naming the principal, or refuses.
type fakeTokens struct {
	refuse  error
	managed *sts.ManagedIdentityRequest
}

func token(oid string) *sts.TokenResponse {
	claims, _ := json.Marshal(map[string]string{"oid": oid})
	return &sts.TokenResponse{AccessToken: "e30." + base64.RawURLEncoding.EncodeToString(claims) + ".sig"}
}

func (f *fakeTokens) SignIn(_ context.Context, tenantID, clientID, secret, resource string) (*sts.TokenResponse, error) {
	if f.refuse != nil {
		return nil, f.refuse
	}
	if secret != "s3cret" || resource != armResource {
		return nil, &sts.Error{Code: 7000215, Description: "Invalid client secret provided."}
	}
	return token("sp-oid"), nil
}

func (f *fakeTokens) ManagedIdentityToken(_ context.Context, req sts.ManagedIdentityRequest) (*sts.TokenResponse, error) {
	f.managed = &req
	return token("mi-oid"), nil
}

// fakeARM answers like Resource Manager: it allows what allowed says
// (method + " " + lower-case path) and records every request.
type fakeARM struct {
	mu      sync.Mutex
	allowed map[string]bool
	seen    []string
	perms   string
	got     map[string]string // GET answers by key, instead of the default
	put     map[string]string // the last body PUT at each key
}

func (f *fakeARM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.Method + " " + strings.ToLower(r.URL.Path)
	f.seen = append(f.seen, key+" "+r.URL.Query().Get("api-version")+" "+r.Header.Get("Authorization")[:10])
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(key, "/providers/microsoft.authorization/permissions") {
		_, _ = io.WriteString(w, f.perms)
		return
	}
	if !f.allowed[key] {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":{"code":"AuthorizationFailed","message":"no `+r.Method+` on `+r.URL.Path+`"}}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPut {
		f.put[key] = string(body)
	}
	if r.Method == http.MethodGet {
		body = []byte(`{"id":"` + r.URL.Path + `","location":"westus2","properties":{"addressPrefix":"10.0.0.0/24","provisioningState":"Succeeded"}}`)
		if b, ok := f.got[key]; ok {
			body = []byte(b)
		}
		if string(body) == "404" {
			w.WriteHeader(http.StatusNotFound)
			body = []byte(`{"error":{"code":"ResourceNotFound","message":"not found"}}`)
		}
	}
	_, _ = w.Write(body)
}

func setup(t *testing.T, cp aks.ControlPlane) (*Service, *fakeClusters, *fakeTokens, *fakeARM) {
	t.Helper()
	arm := &fakeARM{allowed: map[string]bool{}, perms: `{"value":[]}`, got: map[string]string{}, put: map[string]string{}}
	srv := httptest.NewServer(arm)
	t.Cleanup(srv.Close)
	clusters, tokens := &fakeClusters{cp: cp}, &fakeTokens{}
	return New(Deps{Clusters: clusters, Tokens: tokens, HTTP: srv.Client(), Endpoint: srv.URL}), clusters, tokens, arm
}

func spCluster() aks.ControlPlane {
	return aks.ControlPlane{ID: clusterID, TenantID: "t1", ClientID: "app1", Secret: "s3cret", Model: map[string]any{
		"location": "westus2",
		"properties": map[string]any{"nodeResourceGroup": "MC_rg_c1_westus2",
			"agentPoolProfiles": []any{map[string]any{"name": "nodepool1", "vnetSubnetID": testSubnetID}}}}}
}

func names(checks []Check) string {
	var out []string
	for _, c := range checks {
		s := "FAIL "
		if c.OK {
			s = "PASS "
		}
		out = append(out, s+c.Name)
	}
	return strings.Join(out, ", ")
}

func TestChecksActAsTheServicePrincipal(t *testing.T) {
	s, clusters, _, arm := setup(t, spCluster())
	node := "/subscriptions/sub1/resourcegroups/mc_rg_c1_westus2/providers/microsoft.network/"
	for _, k := range []string{"PUT " + node + "publicipaddresses/kubernetes-aksid-check", "PUT " + node + "loadbalancers/kubernetes",
		"GET " + node + "loadbalancers/kubernetes", "GET " + strings.ToLower(testSubnetID), "GET " + strings.ToLower(diskID), "PUT " + strings.ToLower(diskID)} {
		arm.allowed[k] = true
	}
	arm.perms = `{"value":[{"actions":["Microsoft.ContainerRegistry/registries/*"],"notActions":["Microsoft.ContainerRegistry/registries/pull/read"]}]}`
	checks, err := s.Check(context.Background(), Request{ClusterID: clusterID, Disks: []string{diskID}, Registries: []string{acrID}})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(checks); got != "PASS public-ip, PASS load-balancer, FAIL subnet, PASS disk/d1, FAIL registry/acr1" {
		t.Fatalf("checks: %s", got)
	}
	if !strings.HasPrefix(checks[2].Detail, "AuthorizationFailed: no PUT on "+testSubnetID) {
		t.Fatalf("subnet: the write is refused after the read: %q", checks[2].Detail)
	}
	if want := "AuthorizationFailed: The client 'sp-oid' with object id 'sp-oid' does not have authorization to perform action 'Microsoft.ContainerRegistry/registries/pull/read' over scope '" + acrID; !strings.HasPrefix(checks[4].Detail, want) {
		t.Fatalf("registry: NotActions carve the pull out: %q", checks[4].Detail)
	}
	for _, seen := range arm.seen {
		if !strings.HasSuffix(seen, "Bearer e30") {
			t.Fatalf("a request without the identity's token: %s", seen)
		}
	}
	if len(clusters.events) != 5 || clusters.events[2].Type != "Warning" || clusters.events[2].Reason != "subnet" ||
		clusters.events[0].Type != "Normal" || clusters.events[0].Cluster != clusterID {
		t.Fatalf("events: %+v", clusters.events)
	}

	arm.perms = `{"value":[{"actions":[]},{"actions":["Microsoft.ContainerRegistry/registries/pull/read"],"notActions":[]}]}`
	checks, err = s.Check(context.Background(), Request{ClusterID: clusterID, Registries: []string{acrID}})
	if err != nil || checks[len(checks)-1].Name != "registry/acr1" || !checks[len(checks)-1].OK {
		t.Fatalf("AcrPull allows the pull: %+v %v", checks, err)
	}
}

func TestRefusedSignInFailsEveryCheck(t *testing.T) {
	s, clusters, tokens, arm := setup(t, spCluster())
	tokens.refuse = &sts.Error{OAuth: "invalid_client", Code: 7000222, Description: "The provided client secret keys for app 'app1' are expired."}
	checks, err := s.Check(context.Background(), Request{ClusterID: clusterID, Disks: []string{diskID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 4 {
		t.Fatalf("checks: %+v", checks)
	}
	for _, c := range checks {
		if c.OK || c.Detail != "AADSTS7000222: The provided client secret keys for app 'app1' are expired." {
			t.Fatalf("%s: %+v", c.Name, c)
		}
	}
	if len(arm.seen) != 0 || len(clusters.events) != 4 {
		t.Fatalf("nothing reaches ARM without a token (%v); every failure is an event (%d)", arm.seen, len(clusters.events))
	}
}

func TestManagedIdentityAndMissingCluster(t *testing.T) {
	cp := aks.ControlPlane{ID: clusterID, TenantID: "t1", Managed: true, ClientID: "mi-client", PrincipalID: "mi-oid", ResourceID: clusterID,
		Model: map[string]any{"location": "westus2", "properties": map[string]any{"nodeResourceGroup": "MC_rg_c1_westus2"}}}
	s, _, tokens, arm := setup(t, cp)
	checks, err := s.Check(context.Background(), Request{ClusterID: clusterID})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(checks); got != "FAIL public-ip, FAIL load-balancer" {
		t.Fatalf("no subnet check without a subnet: %s", got)
	}
	if tokens.managed == nil || tokens.managed.ClientID != "mi-client" || tokens.managed.ResourceID != clusterID || tokens.managed.Resource != armResource {
		t.Fatalf("managed identity token request: %+v", tokens.managed)
	}
	if len(arm.seen) != 2 {
		t.Fatalf("requests: %v", arm.seen)
	}
	if _, err := s.Check(context.Background(), Request{ClusterID: clusterID + "x"}); err == nil {
		t.Fatal("a missing cluster is an error, not a check")
	}
}

// TestLoadBalancerCheckKeepsAKSConfiguration: the check adds its frontend
// to the load balancer AKS made, as cloud-provider-azure does, keeping the
// outbound frontend and rule; with no load balancer it makes one.
func TestLoadBalancerCheckKeepsAKSConfiguration(t *testing.T) {
	s, _, _, arm := setup(t, spCluster())
	lb := "/subscriptions/sub1/resourcegroups/mc_rg_c1_westus2/providers/microsoft.network/loadbalancers/kubernetes"
	arm.allowed["GET "+lb], arm.allowed["PUT "+lb] = true, true
	arm.got["GET "+lb] = `{"location":"westus2","sku":{"name":"Standard"},"properties":{"frontendIPConfigurations":[{"name":"outbound"}],"outboundRules":[{"name":"aksOutboundRule"}]}}`
	checks, err := s.Check(context.Background(), Request{ClusterID: clusterID})
	if err != nil || !checks[1].OK {
		t.Fatalf("checks: %+v %v", checks, err)
	}
	var body struct {
		Properties struct {
			Frontends []struct{ Name string } `json:"frontendIPConfigurations"`
			Rules     []any                   `json:"outboundRules"`
		}
	}
	if err := json.Unmarshal([]byte(arm.put["PUT "+lb]), &body); err != nil || len(body.Properties.Frontends) != 2 ||
		body.Properties.Frontends[0].Name != "aksid-check" || body.Properties.Frontends[1].Name != "outbound" || len(body.Properties.Rules) != 1 {
		t.Fatalf("written back: %v %s", err, arm.put["PUT "+lb])
	}
	arm.got["GET "+lb] = "404"
	if checks, err = s.Check(context.Background(), Request{ClusterID: clusterID}); err != nil || !checks[1].OK ||
		!strings.Contains(arm.put["PUT "+lb], `"backendAddressPools":[{"name":"kubernetes"}]`) {
		t.Fatalf("no load balancer yet: %+v %v %s", checks, err, arm.put["PUT "+lb])
	}
}
