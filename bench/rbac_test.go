package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// The RBAC decision benchmark's shape and budget.
const (
	rbacUsers        = 10_000
	rbacGroups       = 1_000
	rbacAssignments  = 100_000
	rbacRGs          = 100
	rbacPerRG        = 10 // resources in each resource group
	rbacRequests     = 20_000
	rbacPhase        = time.Second // each engine's measured phase
	rbacTargetP99    = 20 * time.Microsecond
	rbacSubscription = "/subscriptions/35349980-0f19-46d4-b35c-857c4a1e327e"
)

// rbacRoles are the built-in roles the fixture hands out, with weights.
var rbacRoles = []struct {
	guid   string
	weight int
}{
	{"acdd72a7-3385-48ef-bd42-f606fba81ae7", 30}, // Reader
	{"b24988ac-6180-42a0-ab88-20f7382dd24c", 10}, // Contributor
	{"4d97b98b-1d4f-4787-a291-c67834d212e7", 10}, // Network Contributor
	{"9980e02c-c2be-4d73-94e8-173b1dc7cf3c", 10}, // Virtual Machine Contributor
	{"17d1049b-9a84-46fb-8f53-869881c3d3ab", 10}, // Storage Account Contributor
	{"7f951dda-4ed3-4680-a7ca-43fe172d538d", 10}, // AcrPull
	{"4abbcc35-e782-43d8-92c5-2d3f1bd2253f", 5},  // AKS Cluster User Role
	{"3913510d-42f4-4e42-8a64-420c390055eb", 5},  // Monitoring Metrics Publisher
	{"f1a07417-d97a-45cb-824c-7a7467783830", 5},  // Managed Identity Operator
	{"18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", 3},  // User Access Administrator
	{"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", 2},  // Owner
}

// rbacTypes are the resource types in each group, with actions callers ask for.
var rbacTypes = []struct{ typ, name string }{
	{"Microsoft.Network/virtualNetworks", "vnet"},
	{"Microsoft.Storage/storageAccounts", "st"},
	{"Microsoft.Compute/virtualMachines", "vm"},
	{"Microsoft.ContainerService/managedClusters", "aks"},
	{"Microsoft.ContainerRegistry/registries", "acr"},
}

var rbacVerbs = []string{"read", "write", "delete", "listKeys/action", "pull/read", "listClusterUserCredential/action"}

type rbacRequest struct {
	principals []string // oid then its groups
	action     string
	scope      string
	ancestors  []string // case-folded scope keys, for Casbin's exact domains
}

type rbacFixture struct {
	assignments []rbac.Assignment
	requests    []rbacRequest
}

func guidFrom(r *rand.Rand) string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// buildRBACFixture makes a deterministic tenant: users in groups,
// assignments spread over the subscription, its groups and resources,
// and requests by random users against random resources.
func buildRBACFixture() rbacFixture {
	r := rand.New(rand.NewPCG(1, 2))
	users, groups := make([]string, rbacUsers), make([]string, rbacGroups)
	for i := range users {
		users[i] = guidFrom(r)
	}
	for i := range groups {
		groups[i] = guidFrom(r)
	}
	memberOf := make([][]string, rbacUsers)
	for i := range memberOf {
		for range r.IntN(6) {
			memberOf[i] = append(memberOf[i], groups[r.IntN(rbacGroups)])
		}
	}
	var rgs, resources []string
	for g := range rbacRGs {
		rg := fmt.Sprintf("%s/resourceGroups/rg-%03d", rbacSubscription, g)
		rgs = append(rgs, rg)
		for i := range rbacPerRG {
			t := rbacTypes[i%len(rbacTypes)]
			resources = append(resources, fmt.Sprintf("%s/providers/%s/%s-%d", rg, t.typ, t.name, i))
		}
	}
	total := 0
	for _, role := range rbacRoles {
		total += role.weight
	}
	pickRole := func() string {
		n := r.IntN(total)
		for _, role := range rbacRoles {
			if n -= role.weight; n < 0 {
				return role.guid
			}
		}
		panic("unreachable")
	}
	var f rbacFixture
	seen := map[string]bool{}
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for len(f.assignments) < rbacAssignments {
		principal, ptype := users[r.IntN(rbacUsers)], "User"
		if r.IntN(100) < 15 {
			principal, ptype = groups[r.IntN(rbacGroups)], "Group"
		}
		scope := resources[r.IntN(len(resources))]
		switch n := r.IntN(100); {
		case n < 5:
			scope = rbacSubscription
		case n < 40:
			scope = rgs[r.IntN(len(rgs))]
		}
		role := pickRole()
		if key := role + principal + scope; !seen[key] {
			seen[key] = true
			name := guidFrom(r)
			f.assignments = append(f.assignments, rbac.Assignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + name,
				Scope: scope, RoleDefinitionID: rbacSubscription + "/providers/Microsoft.Authorization/roleDefinitions/" + role,
				PrincipalID: principal, PrincipalType: ptype, CreatedOn: created})
		}
	}
	for range rbacRequests {
		u := r.IntN(rbacUsers)
		i := r.IntN(len(resources))
		scope, t := resources[i], rbacTypes[(i%rbacPerRG)%len(rbacTypes)]
		action := t.typ + "/" + rbacVerbs[r.IntN(len(rbacVerbs))]
		if r.IntN(10) == 0 {
			action = "Microsoft.Authorization/roleAssignments/write"
		}
		var anc []string
		for _, a := range armid.MustParse(scope).Ancestors() {
			anc = append(anc, a.Key())
		}
		f.requests = append(f.requests, rbacRequest{principals: append([]string{users[u]}, memberOf[u]...), action: action, scope: scope, ancestors: anc})
	}
	return f
}

// rbacCasbinModel is scope-prefix RBAC in Casbin's terms: g(principal,
// role, scope) with exact scopes as domains (the caller walks the
// request's ancestors), and one policy line per role action carrying the
// role's notActions, matched with the same wildcard rules.
const rbacCasbinModel = `
[request_definition]
r = sub, dom, act

[policy_definition]
p = sub, act, notact

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = actionMatch(r.act, p.act, p.notact) && g(r.sub, p.sub, r.dom)
`

func newCasbin(tb testing.TB, svc *rbac.Service, assignments []rbac.Assignment) *casbin.Enforcer {
	m, err := model.NewModelFromString(rbacCasbinModel)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		tb.Fatal(err)
	}
	e.AddFunction("actionMatch", func(args ...interface{}) (interface{}, error) {
		act, pat, not := args[0].(string), args[1].(string), args[2].(string)
		if !rbac.ActionMatches(pat, act) {
			return false, nil
		}
		for _, n := range strings.Split(not, "|") {
			if n != "" && rbac.ActionMatches(n, act) {
				return false, nil
			}
		}
		return true, nil
	})
	var policies [][]string
	for _, role := range rbacRoles {
		d, err := svc.RoleDefinition(context.Background(), "/", role.guid)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range d.Permissions {
			for _, a := range p.Actions {
				policies = append(policies, []string{role.guid, strings.ToLower(a), strings.ToLower(strings.Join(p.NotActions, "|"))})
			}
		}
	}
	if _, err := e.AddPolicies(policies); err != nil {
		tb.Fatal(err)
	}
	links := make([][]string, len(assignments))
	for i, a := range assignments {
		links[i] = []string{strings.ToLower(a.PrincipalID), a.RoleDefinitionID[strings.LastIndexByte(a.RoleDefinitionID, '/')+1:],
			armid.MustParse(a.Scope).Key()}
	}
	if _, err := e.AddGroupingPolicies(links); err != nil {
		tb.Fatal(err)
	}
	return e
}

func casbinDecide(tb testing.TB, e *casbin.Enforcer, req rbacRequest) bool {
	act := strings.ToLower(req.action)
	for _, p := range req.principals {
		for _, dom := range req.ancestors {
			ok, err := e.Enforce(p, dom, act)
			if err != nil {
				tb.Fatal(err)
			}
			if ok {
				return true
			}
		}
	}
	return false
}

type rbacPhaseResult struct {
	decisions, allowed int
	rate               float64 // decisions per second
	p50, p99           time.Duration
	answers            []bool // first pass, in request order
}

// measureRBAC runs decide over the requests, round after round, until the
// phase is over (at least one round for the answers), timing each call.
func measureRBAC(reqs []rbacRequest, budget time.Duration, decide func(rbacRequest) bool) rbacPhaseResult {
	var res rbacPhaseResult
	lat := make([]time.Duration, 0, len(reqs))
	start := time.Now()
	for i := 0; ; i++ {
		if i == len(reqs) {
			i = 0
		}
		t0 := time.Now()
		ok := decide(reqs[i])
		t1 := time.Now()
		lat = append(lat, t1.Sub(t0))
		if len(res.answers) < len(reqs) {
			res.answers = append(res.answers, ok)
		}
		if ok {
			res.allowed++
		}
		if t1.Sub(start) >= budget {
			break
		}
	}
	elapsed := time.Since(start)
	res.decisions = len(lat)
	res.rate = float64(res.decisions) / elapsed.Seconds()
	slices.Sort(lat)
	res.p50, res.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	return res
}

// rbacFirst is one pass over every request, each decided once.
type rbacFirst struct {
	decisions int
	elapsed   time.Duration
	p50, p99  time.Duration
}

func rbacFirstPass(reqs []rbacRequest, decide func(rbacRequest) bool) rbacFirst {
	lat := make([]time.Duration, len(reqs))
	start := time.Now()
	for i, r := range reqs {
		t0 := time.Now()
		decide(r)
		lat[i] = time.Since(t0)
	}
	res := rbacFirst{decisions: len(reqs), elapsed: time.Since(start)}
	slices.Sort(lat)
	res.p50, res.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	return res
}

// BenchmarkRBACDecisions builds 100,000 assignments over 10,000 users and
// 1,000 groups in a store, loads aksid's index from it and measures
// decisions per second and p99 latency, then does the same with Casbin
// on an equivalent model and checks both give the same answers. The
// phases run for a fixed time whatever b.N is.
func BenchmarkRBACDecisions(b *testing.B) {
	ctx := context.Background()
	t0 := time.Now()
	f := buildRBACFixture()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	err = st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		// Only the documents Refresh reads: the uniqueness records would
		// double the fixed work and decisions never look at them.
		for _, a := range f.assignments {
			if err := store.PutJSON(tx, rbac.KindAssignment, a.Name(), a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	svc, err := rbac.New(ctx, st, clock.Wall{}, rbac.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	e := newCasbin(b, svc, f.assignments)
	t3 := time.Now()
	b.ResetTimer()

	decide := func(req rbacRequest) bool {
		d, err := svc.Authorize(ctx, req.principals, req.action, req.scope)
		if err != nil {
			b.Fatal(err)
		}
		return d.Allowed
	}
	// Decisions read a principal's assignments from the store the first
	// time it calls and keep them (internal/rbac cache.go): one pass over
	// every request measures those first decisions, then the measured
	// phase is the steady state the target is about, every caller seen.
	cold := rbacFirstPass(f.requests, decide)
	aks := measureRBAC(f.requests, rbacPhase, decide)
	cas := measureRBAC(f.requests, rbacPhase, func(req rbacRequest) bool { return casbinDecide(b, e, req) })
	b.StopTimer()

	mismatches := 0
	for i, ok := range cas.answers {
		if ok != aks.answers[i] {
			mismatches++
		}
	}
	if mismatches > 0 {
		b.Errorf("aksid and Casbin disagree on %d of %d requests", mismatches, len(cas.answers))
	}
	ratio := aks.rate / cas.rate
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.Logf("fixture: %d assignments, %d users, %d groups, %d scopes; store write %v, aksid load %v, Casbin load %v",
		len(f.assignments), rbacUsers, rbacGroups, 1+rbacRGs+rbacRGs*rbacPerRG, t1.Sub(t0).Round(time.Millisecond),
		t2.Sub(t1).Round(time.Millisecond), t3.Sub(t2).Round(time.Millisecond))
	b.Logf("aksid:  %9.0f decisions/s  p50 %6.2fµs  p99 %6.2fµs  %d decisions, %.0f%% allowed",
		aks.rate, us(aks.p50), us(aks.p99), aks.decisions, 100*float64(aks.allowed)/float64(aks.decisions))
	b.Logf("aksid, first pass (each caller's first decision reads the store): %d decisions in %v, p50 %6.2fµs  p99 %6.2fµs",
		cold.decisions, cold.elapsed.Round(time.Millisecond), us(cold.p50), us(cold.p99))
	b.Logf("Casbin: %9.0f decisions/s  p50 %6.2fµs  p99 %6.2fµs  %d decisions, %d compared, %d mismatches",
		cas.rate, us(cas.p50), us(cas.p99), cas.decisions, len(cas.answers), mismatches)
	b.Logf("ratio aksid/Casbin %.1fx", ratio)
	atMost(b, "aksid p99 µs", us(aks.p99), us(rbacTargetP99))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(aks.rate, "aksid-decisions/s")
	b.ReportMetric(us(cold.p99), "aksid-first-pass-p99-µs")
	b.ReportMetric(us(aks.p99), "aksid-p99-µs")
	b.ReportMetric(cas.rate, "casbin-decisions/s")
	b.ReportMetric(us(cas.p99), "casbin-p99-µs")
	b.ReportMetric(ratio, "aksid/casbin")
}
