package portal

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/aks"
)

const testCluster = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"

// fakeBackend keeps cluster checks.
type fakeBackend struct {
	runs map[string]aks.CheckRun
	now  time.Time
}

func (b *fakeBackend) Hosts(context.Context) ([]Host, error) { return nil, nil }
func (b *fakeBackend) LastClusterCheck(_ context.Context, id string) (aks.CheckRun, bool, error) {
	r, ok := b.runs[id]
	return r, ok, nil
}
func (b *fakeBackend) CheckCluster(_ context.Context, id string) (aks.CheckRun, error) {
	r := aks.CheckRun{Time: b.now, Results: []aks.CheckResult{{Name: "public-ip", OK: true}}}
	b.runs[id] = r
	return r, nil
}

// fakeARM answers Resource Manager: one subscription with one cluster;
// "admin" is Owner there, "user" a Reader whose role also says what it
// may not do.
func fakeARM(graph http.Handler, armCalls *int) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", graph)
	mux.HandleFunc("GET /subscriptions", func(w http.ResponseWriter, r *http.Request) {
		*armCalls++
		_, _ = io.WriteString(w, `{"value":[{"subscriptionId":"00000000-0000-0000-0000-000000000001","displayName":"sub"}]}`)
	})
	mux.HandleFunc("GET /subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"value": []any{map[string]any{"id": testCluster, "name": "c1", "location": "westus2",
			"identity": map[string]any{"type": "SystemAssigned", "principalId": "p1"}, "properties": map[string]any{"provisioningState": "Succeeded"}}}})
	})
	mux.HandleFunc("GET "+testCluster+"/providers/Microsoft.Authorization/permissions", func(w http.ResponseWriter, r *http.Request) {
		perm := `{"actions":["*"],"notActions":[]}`
		if r.Header.Get("Authorization") != "Bearer admin" {
			perm = `{"actions":["*"],"notActions":["Microsoft.ContainerService/managedClusters/write"]}`
		}
		_, _ = io.WriteString(w, `{"value":[`+perm+`]}`)
	})
	return mux
}

// TestClusterCheckRights: the clusters view enables the check button for
// a user whose roles allow writing the cluster, and a POST from anyone
// else is refused without running the check. The ARM token comes from
// the refresh token, which rotates.
func TestClusterCheckRights(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	armCalls := 0
	aksid := fakeARM(fakeAksid(now), &armCalls)
	backend := &fakeBackend{runs: map[string]aks.CheckRun{}, now: now}
	p := New(Options{URL: "https://aksid.test", TenantID: "tid", ClientID: "portal", LoginBase: "https://login.test", GraphBase: "https://graph.test",
		ARMBase: "https://arm.test", HTTP: &http.Client{Transport: handlerTransport{aksid}}, Clock: &fakeClock{now}, Backend: backend,
		Sessions: newSessions(), Log: slog.New(slog.DiscardHandler)})
	mux := http.NewServeMux()
	p.Register(mux)
	get := func(sess *http.Cookie) string {
		req := httptest.NewRequest("GET", "https://aksid.test/portal/clusters", nil)
		req.AddCookie(sess)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("clusters view: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	post := func(sess *http.Cookie, csrf string) int {
		req := httptest.NewRequest("POST", "https://aksid.test/portal/clusters/check",
			strings.NewReader(url.Values{"csrf": {csrf}, "cluster": {testCluster}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(sess)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code
	}

	user, userCSRF := signedIn(t, p, aksid, "user")
	if body := get(user); !strings.Contains(body, `class="check" disabled`) || !strings.Contains(body, "never run") {
		t.Fatalf("a reader's clusters view: %s", body)
	}
	if code := post(user, userCSRF); code != http.StatusForbidden || len(backend.runs) != 0 {
		t.Fatalf("a reader's check: %d, runs %v", code, backend.runs)
	}

	admin, adminCSRF := signedIn(t, p, aksid, "admin")
	if body := get(admin); strings.Contains(body, `class="check" disabled`) {
		t.Fatalf("an owner's button is disabled: %s", body)
	}
	if code := post(admin, adminCSRF); code != http.StatusSeeOther || len(backend.runs) != 1 {
		t.Fatalf("an owner's check: %d, runs %v", code, backend.runs)
	}
	if body := get(admin); !strings.Contains(body, `<span class="ok">passed</span> at 2027-01-01 00:00 UTC`) {
		t.Fatalf("after the check: %s", body)
	}
	if armCalls != 3 {
		t.Fatalf("the views listed subscriptions %d times", armCalls)
	}
}

// TestSpentRefreshTokenSignsInAgain: when the refresh token is refused
// (spent, revoked, a disabled user) the session needs a new sign-in,
// and the view sends the browser there.
func TestSpentRefreshTokenSignsInAgain(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	armCalls := 0
	aksid := fakeARM(fakeAksid(now), &armCalls)
	p := New(Options{URL: "https://aksid.test", TenantID: "tid", ClientID: "portal", LoginBase: "https://login.test", GraphBase: "https://graph.test",
		ARMBase: "https://arm.test", HTTP: &http.Client{Transport: handlerTransport{aksid}}, Clock: &fakeClock{now},
		Backend: &fakeBackend{runs: map[string]aks.CheckRun{}}, Sessions: newSessions(), Log: slog.New(slog.DiscardHandler)})
	mux := http.NewServeMux()
	p.Register(mux)
	sess, _ := signedIn(t, p, aksid, "admin")
	s, err := p.load(context.Background(), sess.Value)
	if err != nil || s == nil {
		t.Fatalf("the session: %v", err)
	}
	s.mu.Lock()
	s.refresh = "rt-spent"
	if err := p.save(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	s.mu.Unlock()
	req := httptest.NewRequest("GET", "https://aksid.test/portal/clusters", nil)
	req.AddCookie(sess)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if loc, _ := url.Parse(rec.Header().Get("Location")); rec.Code != http.StatusFound || loc.Path != "/tid/oauth2/v2.0/authorize" {
		t.Fatalf("a spent refresh token: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

func TestReadAction(t *testing.T) {
	for id, want := range map[string]string{
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm":                       "microsoft.compute/virtualmachines/read",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/s1":             "microsoft.network/virtualnetworks/subnets/read",
		"/subscriptions/s/resourceGroups/g":                                                                      "Microsoft.Resources/subscriptions/resourceGroups/read",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p1": "microsoft.containerservice/managedclusters/agentpools/read",
	} {
		if got := readAction(id); got != want {
			t.Errorf("readAction(%s) = %s, want %s", id, got, want)
		}
	}
}

// TestSessionsAcrossReplicas: two portals on one store (two replicas):
// a session opened on one serves on the other, each replica's refresh
// reaches the other (refresh tokens work once), signing out on one ends
// it on both, and the store holds neither the cookie's value nor the
// refresh token nor the CSRF token in clear.
func TestSessionsAcrossReplicas(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	armCalls := 0
	aksid := fakeARM(fakeAksid(now), &armCalls)
	shared := newSessions()
	replica := func() (*Handler, *http.ServeMux) {
		p := New(Options{URL: "https://aksid.test", TenantID: "tid", ClientID: "portal", LoginBase: "https://login.test", GraphBase: "https://graph.test",
			ARMBase: "https://arm.test", HTTP: &http.Client{Transport: handlerTransport{aksid}}, Clock: &fakeClock{now},
			Backend: &fakeBackend{runs: map[string]aks.CheckRun{}}, Sessions: shared, Log: slog.New(slog.DiscardHandler)})
		mux := http.NewServeMux()
		p.Register(mux)
		return p, mux
	}
	a, muxA := replica()
	_, muxB := replica()
	sess, csrf := signedIn(t, a, aksid, "admin")
	get := func(mux *http.ServeMux, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "https://aksid.test"+path, nil)
		req.AddCookie(sess)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	for i, mux := range []*http.ServeMux{muxB, muxA, muxB} {
		if rec := get(mux, "/portal/clusters"); rec.Code != 200 {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	shared.mu.Lock()
	for key, sealed := range shared.m {
		for _, clear := range []string{sess.Value, csrf, "rt-"} {
			if strings.Contains(key, clear) || strings.Contains(string(sealed), clear) {
				t.Fatalf("the store holds %q in clear", clear)
			}
		}
	}
	shared.mu.Unlock()

	req := httptest.NewRequest("POST", "https://aksid.test/portal/signout", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(sess)
	rec := httptest.NewRecorder()
	muxB.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("sign out: %d", rec.Code)
	}
	if rec := get(muxA, "/portal/clusters"); rec.Code != http.StatusFound {
		t.Fatalf("after signing out on the other replica: %d", rec.Code)
	}
}
