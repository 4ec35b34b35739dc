package azrbac

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/store/sqlite"
	"github.com/google/uuid"
)

const (
	subID   = "00000000-0000-4000-8000-000000000001"
	cluster = "/subscriptions/" + subID + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	other   = "/subscriptions/" + subID + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c2"

	// The AKS RBAC roles' GUIDs (Microsoft's built-in roles).
	rbacReader       = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
	rbacWriter       = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
	rbacAdmin        = "3498e952-d568-435e-9b2c-8d77e338d7f7"
	rbacClusterAdmin = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
)

type fixture struct {
	t   *testing.T
	az  *rbac.Service
	clk *clock.Virtual
	d   *Decider
	// lastAssignment is the GUID of the assignment assign made last.
	lastAssignment string
}

func newFixture(t *testing.T, opts rbac.Options) *fixture {
	t.Helper()
	st, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewVirtual(clock.Wall{}, 0)
	az, err := rbac.New(context.Background(), st, clk, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, az: az, clk: clk, d: New(az)}
}

func (f *fixture) assign(scope, role, principal string) {
	f.t.Helper()
	f.lastAssignment = uuid.NewString()
	_, err := f.az.CreateAssignment(context.Background(), rbac.AssignmentSpec{Name: f.lastAssignment, Scope: scope,
		RoleDefinitionID: "/subscriptions/" + subID + "/providers/Microsoft.Authorization/roleDefinitions/" + role,
		PrincipalID:      principal, PrincipalType: "User", CreatedBy: uuid.NewString()})
	if err != nil {
		f.t.Fatalf("assign %s at %s: %v", role, scope, err)
	}
}

// ask decides verb on resource (group/resource[/sub]) in ns for oid.
func (f *fixture) ask(clusterID, oid string, groups []string, verb, gr, ns string) Decision {
	f.t.Helper()
	parts := strings.Split(gr, "/")
	res := &ResourceAttributes{Namespace: ns, Verb: verb, Group: parts[0], Resource: parts[1]}
	if len(parts) > 2 {
		res.Subresource = parts[2]
	}
	d, err := f.d.Decide(context.Background(), Review{Cluster: clusterID, User: "someone@contoso.com",
		Groups: append([]string{"system:authenticated"}, groups...), Extra: map[string][]string{ExtraOID: {oid}}, Resource: res})
	if err != nil {
		f.t.Fatalf("decide: %v", err)
	}
	if d.Denied {
		f.t.Fatalf("%s %s in %q: denied; the webhook must leave refusals to Kubernetes RBAC", verb, gr, ns)
	}
	return d
}

func TestNamespaceReader(t *testing.T) {
	f := newFixture(t, rbac.Options{})
	alice := uuid.NewString()
	f.assign(cluster+"/namespaces/dev", rbacReader, alice)
	for _, tc := range []struct {
		verb, gr, ns string
		want         bool
	}{
		{"get", "/pods", "dev", true},
		{"list", "/pods", "dev", true},
		{"get", "/pods/log", "dev", true},
		{"list", "apps/deployments", "dev", true},
		{"list", "/pods", "kube-system", false},
		{"create", "/pods", "dev", false},
		{"create", "/pods/exec", "dev", false},
		{"get", "/secrets", "dev", false},
		{"list", "/namespaces", "", false}, // cluster scope lies above the assignment
		{"list", "/pods", "", false},       // all namespaces at once
	} {
		got := f.ask(cluster, alice, nil, tc.verb, tc.gr, tc.ns)
		if got.Allowed != tc.want {
			t.Errorf("reader: %s %s in %q = %v (%s)", tc.verb, tc.gr, tc.ns, got.Allowed, got.Reason)
		}
		// Refused: Guard's words, which kubectl shows and AKS's docs quote;
		// no opinion (not denied), so Kubernetes RBAC still decides.
		if !tc.want && (got.Denied || got.Missing == "" || got.Reason != "User does not have access to the resource in Azure. Update role assignment to allow access.") {
			t.Errorf("reader: %s %s in %q refused as %+v", tc.verb, tc.gr, tc.ns, got)
		}
	}
	if got := f.ask(cluster, alice, nil, "get", "/secrets", "dev").Missing; got != "Microsoft.ContainerService/managedClusters/secrets/read" {
		t.Errorf("reader: the action missing for get secrets is %q", got)
	}
	if f.ask(other, alice, nil, "get", "/pods", "dev").Allowed {
		t.Error("an assignment on one cluster must not reach another")
	}
}

func TestClusterAdminEverywhere(t *testing.T) {
	f := newFixture(t, rbac.Options{})
	bob := uuid.NewString()
	f.assign(cluster, rbacClusterAdmin, bob)
	for _, tc := range []struct{ verb, gr, ns string }{
		{"get", "/pods", "kube-system"}, {"delete", "/namespaces", ""}, {"create", "/pods/exec", "dev"},
		{"impersonate", "/users", ""}, {"bind", "rbac.authorization.k8s.io/clusterroles", ""},
		{"list", "stable.example.com/crontabs", "x"}, {"*", "*/*", ""}, {"*", "*/*", "dev"},
	} {
		if d := f.ask(cluster, bob, nil, tc.verb, tc.gr, tc.ns); !d.Allowed {
			t.Errorf("cluster admin: %s %s in %q not allowed: %s", tc.verb, tc.gr, tc.ns, d.Reason)
		}
	}
	d, err := f.d.Decide(context.Background(), Review{Cluster: cluster, User: bob, Extra: map[string][]string{ExtraOID: {bob}},
		NonResource: &NonResourceAttributes{Path: "/metrics", Verb: "get"}})
	if err != nil || !d.Allowed || d.Reason != "Access allowed by Azure RBAC Role Assignment "+strings.ReplaceAll(f.lastAssignment, "-", "")+
		" of Role "+strings.ReplaceAll(rbacClusterAdmin, "-", "")+" to user "+bob {
		t.Errorf("cluster admin: get /metrics = %+v, %v", d, err)
	}
}

func TestWriterAndAdmin(t *testing.T) {
	f := newFixture(t, rbac.Options{})
	w, a := uuid.NewString(), uuid.NewString()
	f.assign(cluster, rbacWriter, w)
	f.assign(cluster+"/namespaces/dev", rbacAdmin, a)
	for _, tc := range []struct {
		who, verb, gr, ns string
		want              bool
	}{
		{w, "create", "apps/deployments", "prod", true},
		{w, "create", "/pods/exec", "prod", true}, // pods/*
		{w, "get", "/secrets", "prod", true},
		{w, "create", "rbac.authorization.k8s.io/roles", "prod", false},
		{w, "*", "/pods", "prod", true}, // every pods action is under pods/*
		{w, "*", "*/*", "prod", false},  // not roles
		{a, "*", "/pods", "dev", true},  // managedClusters/*
		{a, "delete", "/resourcequotas", "dev", false},
		{a, "*", "*/*", "dev", false}, // resourcequotas/write is carved out
		{a, "create", "rbac.authorization.k8s.io/rolebindings", "dev", true},
		{a, "get", "/pods", "prod", false},
	} {
		if got := f.ask(cluster, tc.who, nil, tc.verb, tc.gr, tc.ns).Allowed; got != tc.want {
			t.Errorf("%s %s %s in %q = %v", tc.who[:4], tc.verb, tc.gr, tc.ns, got)
		}
	}
}

func TestGroupAssignment(t *testing.T) {
	f := newFixture(t, rbac.Options{})
	group, carol := uuid.NewString(), uuid.NewString()
	f.assign(cluster+"/namespaces/dev", rbacWriter, group)
	if f.ask(cluster, carol, nil, "create", "/configmaps", "dev").Allowed {
		t.Fatal("carol is in no group yet")
	}
	if d := f.ask(cluster, carol, []string{group}, "create", "/configmaps", "dev"); !d.Allowed {
		t.Fatalf("a group's assignment must count: %s", d.Reason)
	}
	// Group names that are not object IDs are ignored, not an error.
	if f.ask(cluster, carol, []string{"developers", "system:masters"}, "create", "/configmaps", "dev").Allowed {
		t.Fatal("a group name is no object ID")
	}
}

func TestPropagation(t *testing.T) {
	f := newFixture(t, rbac.Options{Propagation: 5 * time.Minute})
	dave := uuid.NewString()
	f.assign(cluster, rbacReader, dave)
	if f.ask(cluster, dave, nil, "get", "/pods", "dev").Allowed {
		t.Fatal("a new assignment must wait for propagation")
	}
	f.clk.SetOffset(6 * time.Minute)
	if !f.ask(cluster, dave, nil, "get", "/pods", "dev").Allowed {
		t.Fatal("the assignment must count once propagated")
	}
}

func TestSkipsAndRefusals(t *testing.T) {
	f := newFixture(t, rbac.Options{})
	eve := uuid.NewString()
	f.assign(cluster, rbacClusterAdmin, eve)
	pods := &ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "dev"}
	oid := map[string][]string{ExtraOID: {eve}}
	for name, tc := range map[string]struct {
		r                          Review
		allowed, denied, evalError bool
	}{
		"system user":          {r: Review{User: "system:serviceaccount:kube-system:default", Extra: oid, Resource: pods}},
		"system user any case": {r: Review{User: "SYSTEM:kube-controller-manager", Extra: oid, Resource: pods}},
		"no oid":               {r: Review{User: "masterclient", Resource: pods}},
		"discovery":            {r: Review{User: "x@contoso.com", Extra: map[string][]string{ExtraOID: {uuid.NewString()}}, NonResource: &NonResourceAttributes{Path: "/apis/apps/v1", Verb: "get"}}, allowed: true},
		"version":              {r: Review{User: "x@contoso.com", Extra: map[string][]string{ExtraOID: {uuid.NewString()}}, NonResource: &NonResourceAttributes{Path: "/version", Verb: "get"}}, allowed: true},
		"bad oid":              {r: Review{User: "x", Extra: map[string][]string{ExtraOID: {"not-a-guid"}}, Resource: pods}, denied: true},
		"two oids":             {r: Review{User: "x", Extra: map[string][]string{ExtraOID: {eve, eve}}, Resource: pods}, denied: true},
		"unmappable":           {r: Review{User: "x", Extra: oid, Resource: &ResourceAttributes{Verb: "*", Group: "nope.io", Resource: "*"}}, evalError: true},
		"allowed":              {r: Review{User: "x", Extra: oid, Resource: pods}, allowed: true},
	} {
		tc.r.Cluster = cluster
		d, err := f.d.Decide(context.Background(), tc.r)
		if err != nil || d.Allowed != tc.allowed || d.Denied != tc.denied || (d.EvaluationError != "") != tc.evalError || d.Reason == "" {
			t.Errorf("%s: %+v, %v", name, d, err)
		}
	}
	if _, err := f.d.Decide(context.Background(), Review{Cluster: "not-an-id", User: "x", Extra: oid, Resource: pods}); !errors.Is(err, ErrNoCluster) {
		t.Errorf("bad cluster: %v", err)
	}
	if _, err := f.d.Decide(context.Background(), Review{User: "x", Extra: oid, Resource: pods}); !errors.Is(err, ErrNoCluster) {
		t.Errorf("no cluster: %v", err)
	}
}
