package arm

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/facetest"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
)

const (
	testBase   = "https://127.0.0.1:8443"
	testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testSub    = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
)

// testKeys is the one signing key tokens in these tests carry.
type testKeys struct{ key *rsa.PrivateKey }

func (k testKeys) VerifyKey(_ context.Context, kid string) (*rsa.PublicKey, bool) {
	return &k.key.PublicKey, kid == "k1"
}

// grants allows each principal the actions listed for it, on any scope.
type grants map[string][]string

func (g grants) Authorize(_ context.Context, ids []string, action, _ string) (bool, error) {
	for _, a := range g[ids[0]] {
		if strings.EqualFold(a, action) {
			return true, nil
		}
	}
	return false, nil
}

func (g grants) HasAccessUnder(_ context.Context, ids []string, _ string) (bool, error) {
	return len(g[ids[0]]) > 0, nil
}

type noGroups struct{}

func (noGroups) TransitiveGroups(context.Context, string, string) ([]string, error) { return nil, nil }

// powerClusters is the clusters' service as stop and start use it: a
// power state by ID; SetPowerState refuses what refuse says.
type powerClusters struct {
	Clusters // the rest is not called
	mu       sync.Mutex
	running  map[string]bool
	calls    []bool
	refuse   error
	commands []aks.RunCommandRequest
}

func (p *powerClusters) Get(_ context.Context, id string) (map[string]any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.running[strings.ToLower(id)]; !ok {
		return nil, azerr.New(azerr.NotFound, "ResourceNotFound", "The Resource '%s' under resource group was not found.", id)
	}
	return map[string]any{"id": id, "location": "westus2"}, nil
}

func (p *powerClusters) SetPowerState(_ context.Context, id string, running bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, running)
	if p.refuse != nil {
		return p.refuse
	}
	p.running[strings.ToLower(id)] = running
	return nil
}

// RunCommand records the request and refuses as aks.RunCommand does.
func (p *powerClusters) RunCommand(_ context.Context, id string, req aks.RunCommandRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.commands = append(p.commands, req)
	return azerr.New(azerr.Invalid, "KubernetesOperationError", "Failed to run command: aksid's clusters run no pods")
}

func (p *powerClusters) Begin(context.Context, string) error { return nil }
func (p *powerClusters) End(context.Context, string)         {}

type armTest struct {
	h        http.Handler
	key      *rsa.PrivateKey
	clusters *powerClusters
	roles    *rbac.Service
	res      *resources.Service
	st       store.Store
}

func newARMTest(t *testing.T, g grants) *armTest {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.CreateJSON(tx, bootstrap.KindSubscription, testSub,
			bootstrap.Subscription{SubscriptionID: testSub, DisplayName: "s", TenantID: testTenant, State: "Enabled"})
	}); err != nil {
		t.Fatal(err)
	}
	res := resources.New(st, clock.Wall{}, time.Minute)
	if _, err := res.PutGroup(ctx, testSub, "rg", resources.GroupSpec{Location: "westus2"}); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cl := &powerClusters{running: map[string]bool{strings.ToLower(clusterPath("c")): true}}
	roles, err := rbac.New(ctx, st, clock.Wall{}, rbac.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := New(Deps{Validator: authn.New(testKeys{key}, clock.Wall{}), Authz: g, Groups: noGroups{}, Resources: res, Clusters: cl,
		Roles: roles, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &armTest{h: facetest.WithRequestID(h), key: key, clusters: cl, roles: roles, res: res, st: st}
}

// clusterPath is the ID of the cluster named name, as the router spells it.
func clusterPath(name string) string {
	return "/subscriptions/" + testSub + "/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/" + name
}

// token is an ARM token for the principal oid.
func (a *armTest) token(t *testing.T, oid string) string {
	t.Helper()
	return a.tokenFor(t, oid, "https://management.core.windows.net/")
}

// tokenFor is a token for oid with the audience aud.
func (a *armTest) tokenFor(t *testing.T, oid, aud string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: a.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(map[string]any{"aud": aud, "iss": testBase + "/" + testTenant + "/",
		"tid": testTenant, "oid": oid, "appid": oid, "idtyp": "app", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request through the router as oid and answers the status,
// the headers and the JSON body.
func (a *armTest) do(t *testing.T, oid, method, path string) (int, http.Header, map[string]any) {
	t.Helper()
	return a.send(t, oid, method, path, "")
}

// send is do with a JSON body.
func (a *armTest) send(t *testing.T, oid, method, path, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, testBase+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+a.token(t, oid))
	req = req.WithContext(origin.NewContext(req.Context(), origin.Direct(testBase, "")))
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, req)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, w.Header(), m
}

func errorCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// TestStopAndStartAreLongRunningActions: az aks stop and start POST
// …/stop and …/start (api-version 2022-11-01 from az 2.45); each is 202
// with Azure-AsyncOperation, Location and Retry-After in the cluster's
// region, and the operation has succeeded at the first poll.
func TestStopAndStartAreLongRunningActions(t *testing.T) {
	a := newARMTest(t, grants{"admin": {actAKS + "stop/action", actAKS + "start/action"}})
	for _, verb := range []string{"stop", "start"} {
		st, h, m := a.do(t, "admin", "POST", clusterPath("c")+"/"+verb+"?api-version=2022-11-01")
		if st != http.StatusAccepted || h.Get("Retry-After") != "1" || h.Get("Location") == "" {
			t.Fatalf("%s: %d %v %v", verb, st, h, m)
		}
		async := h.Get("Azure-AsyncOperation")
		prefix := testBase + "/subscriptions/" + testSub + "/providers/Microsoft.ContainerService/locations/westus2/operations/"
		if !strings.HasPrefix(async, prefix) {
			t.Fatalf("%s: Azure-AsyncOperation %q", verb, async)
		}
		if st, _, m := a.do(t, "admin", "GET", strings.TrimPrefix(async, testBase)); st != http.StatusOK || m["status"] != "Succeeded" {
			t.Fatalf("%s: operation status %d %v", verb, st, m)
		}
		if st, _, m := a.do(t, "admin", "GET", strings.TrimPrefix(h.Get("Location"), testBase)); st != http.StatusOK {
			t.Fatalf("%s: operation result %d %v", verb, st, m)
		}
	}
	if got := a.clusters.calls; len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("SetPowerState calls: %v", got)
	}

	// Azure's refusal of a second stop is the request's answer.
	a.clusters.refuse = azerr.New(azerr.Conflict, "OperationNotAllowed", "managed cluster is not currently running, stopping cannot be performed")
	if st, h, m := a.do(t, "admin", "POST", clusterPath("c")+"/stop?api-version=2022-11-01"); st != http.StatusConflict ||
		errorCode(m) != "OperationNotAllowed" || h.Get("Azure-AsyncOperation") != "" {
		t.Fatalf("refused stop: %d %v %v", st, h, m)
	}
	if st, _, m := a.do(t, "admin", "POST", clusterPath("nope")+"/start?api-version=2022-11-01"); st != http.StatusNotFound || errorCode(m) != "ResourceNotFound" {
		t.Fatalf("unknown cluster: %d %v", st, m)
	}
	if st, _, m := a.do(t, "admin", "GET", clusterPath("c")+"/stop?api-version=2022-11-01"); st != http.StatusNotFound || errorCode(m) != "NotFound" {
		t.Fatalf("GET …/stop: %d %v", st, m)
	}
}

// TestStopAndStartNeedTheirActions: stop needs
// Microsoft.ContainerService/managedClusters/stop/action on the cluster
// and start …/start/action; without it the caller gets 403
// AuthorizationFailed naming the action, and the cluster is untouched.
func TestStopAndStartNeedTheirActions(t *testing.T) {
	a := newARMTest(t, grants{
		"reader":  {actAKS + "read"},
		"stopper": {actAKS + "stop/action"},
	})
	for _, c := range []struct{ who, verb, action string }{
		{"reader", "stop", "stop/action"}, {"reader", "start", "start/action"}, {"stopper", "start", "start/action"},
	} {
		st, _, m := a.do(t, c.who, "POST", clusterPath("c")+"/"+c.verb+"?api-version=2022-11-01")
		msg, _ := m["error"].(map[string]any)["message"].(string)
		if st != http.StatusForbidden || errorCode(m) != "AuthorizationFailed" || !strings.Contains(msg, actAKS+c.action) ||
			!strings.Contains(msg, clusterPath("c")) {
			t.Fatalf("%s %s: %d %v", c.who, c.verb, st, m)
		}
	}
	if len(a.clusters.calls) != 0 {
		t.Fatalf("a refused caller changed the cluster: %v", a.clusters.calls)
	}
	if st, _, m := a.do(t, "stopper", "POST", clusterPath("c")+"/stop?api-version=2022-11-01"); st != http.StatusAccepted {
		t.Fatalf("stopper stop: %d %v", st, m)
	}
}

// TestRunCommandIsRefusedWithWhy: az aks command invoke POSTs
// …/runCommand with the command and, on Entra clusters, the caller's
// cluster token; the body reaches the clusters' service, whose refusal is
// the answer (not the 404 of a path aksid does not know). It needs
// …/runCommand/action: a reader gets 403 and nothing is asked.
func TestRunCommandIsRefusedWithWhy(t *testing.T) {
	a := newARMTest(t, grants{"admin": {actAKS + "runCommand/action"}, "reader": {actAKS + "read"}})
	path := clusterPath("c") + "/runCommand?api-version=2022-11-01"
	body := `{"command":"kubectl get nodes","context":"","clusterToken":"tok"}`
	if st, _, m := a.send(t, "reader", "POST", path, body); st != http.StatusForbidden || errorCode(m) != "AuthorizationFailed" {
		t.Fatalf("reader: %d %v", st, m)
	}
	if len(a.clusters.commands) != 0 {
		t.Fatalf("a refused caller's command was passed on: %v", a.clusters.commands)
	}
	st, _, m := a.send(t, "admin", "POST", path, body)
	if st != http.StatusBadRequest || errorCode(m) != "KubernetesOperationError" {
		t.Fatalf("admin: %d %v", st, m)
	}
	if want := (aks.RunCommandRequest{Command: "kubectl get nodes", ClusterToken: "tok"}); len(a.clusters.commands) != 1 || a.clusters.commands[0] != want {
		t.Fatalf("the service got %v, want %v", a.clusters.commands, want)
	}
	if st, _, m := a.send(t, "admin", "POST", path, `{"command":`); st != http.StatusBadRequest || len(a.clusters.commands) != 1 {
		t.Fatalf("a malformed body: %d %v", st, m)
	}
}

var _ Clusters = (*aks.Service)(nil)
