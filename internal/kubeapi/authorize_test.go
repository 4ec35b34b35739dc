package kubeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/azrbac"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/store/sqlite"
	"github.com/google/uuid"
)

const (
	sarSub     = "00000000-0000-4000-8000-000000000001"
	sarCluster = "/subscriptions/" + sarSub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	sarReader  = "7f6c6a51-bcf8-42ba-9220-52d62157d7db" // Azure Kubernetes Service RBAC Reader
)

// sarServer serves the webhook at /clusters/c1/authorize over a real rbac
// service holding one assignment: Reader in namespace dev for reader.
func sarServer(t *testing.T, reviewer AccessReviewer) (srv *httptest.Server, reader string, logs *bytes.Buffer) {
	t.Helper()
	reader = uuid.NewString()
	if reviewer == nil {
		st, err := sqlite.OpenMemory(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		az, err := rbac.New(context.Background(), st, clock.NewVirtual(clock.Wall{}, 0), rbac.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := az.CreateAssignment(context.Background(), rbac.AssignmentSpec{Name: uuid.NewString(), Scope: sarCluster + "/namespaces/dev",
			RoleDefinitionID: "/subscriptions/" + sarSub + "/providers/Microsoft.Authorization/roleDefinitions/" + sarReader,
			PrincipalID:      reader, PrincipalType: "User", CreatedBy: uuid.NewString()}); err != nil {
			t.Fatal(err)
		}
		reviewer = azrbac.New(az)
	}
	logs = &bytes.Buffer{}
	h := NewAuthorizeHandler(reviewer, func(r *http.Request) (string, bool) {
		return sarCluster, r.URL.Path == "/clusters/c1/authorize"
	}, slog.New(slog.NewTextHandler(logs, nil)))
	srv = httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, reader, logs
}

func postSAR(t *testing.T, url, body string) (int, subjectAccessReview, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out subjectAccessReview
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, string(raw)
}

// sar is a review as kube-apiserver sends it.
func sar(apiVersion, groupsKey, oid, verb, resource, ns string) string {
	return `{"apiVersion":"` + apiVersion + `","kind":"SubjectAccessReview","metadata":{"creationTimestamp":null},
	 "spec":{"resourceAttributes":{"namespace":"` + ns + `","verb":"` + verb + `","version":"v1","resource":"` + resource + `"},
	 "user":"reader@contoso.com","` + groupsKey + `":["system:authenticated"],"extra":{"oid":["` + oid + `"]},"uid":"u"},"status":{"allowed":false}}`
}

func TestAuthorizeWebhookDecides(t *testing.T) {
	srv, reader, _ := sarServer(t, nil)
	url := srv.URL + "/clusters/c1/authorize"
	for _, tc := range []struct {
		name, body string
		allowed    bool
	}{
		{"read pods in dev", sar(sarV1, "groups", reader, "list", "pods", "dev"), true},
		{"v1beta1", sar(sarV1beta1, "group", reader, "get", "pods", "dev"), true},
		{"kube-system", sar(sarV1, "groups", reader, "list", "pods", "kube-system"), false},
		{"create", sar(sarV1, "groups", reader, "create", "pods", "dev"), false},
		{"someone else", sar(sarV1, "groups", uuid.NewString(), "get", "pods", "dev"), false},
	} {
		code, out, raw := postSAR(t, url, tc.body)
		if code != http.StatusOK || out.Kind != "SubjectAccessReview" || out.Status.Allowed != tc.allowed || out.Status.Denied || out.Status.Reason == "" {
			t.Errorf("%s: %d %s", tc.name, code, raw)
		}
		want := sarV1
		if strings.Contains(tc.body, sarV1beta1) {
			want = sarV1beta1
		}
		if out.APIVersion != want {
			t.Errorf("%s: answered in %s, asked in %s", tc.name, out.APIVersion, want)
		}
	}
	code, out, raw := postSAR(t, url, `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"nonResourceAttributes":{"path":"/version","verb":"get"},"user":"x","extra":{"oid":["`+reader+`"]}}}`)
	if code != http.StatusOK || !out.Status.Allowed {
		t.Errorf("discovery: %d %s", code, raw)
	}
	// A malformed object ID is refused outright, as Guard does.
	code, out, raw = postSAR(t, url, sar(sarV1, "groups", "nope", "get", "pods", "dev"))
	if code != http.StatusOK || out.Status.Allowed || !out.Status.Denied {
		t.Errorf("bad oid: %d %s", code, raw)
	}
}

func TestAuthorizeWebhookHostileInput(t *testing.T) {
	srv, _, _ := sarServer(t, nil)
	url := srv.URL + "/clusters/c1/authorize"
	huge := `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"` + strings.Repeat("a", sarMaxBody) + `"}}`
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
	}{
		{"get", http.MethodGet, "/clusters/c1/authorize", "", http.StatusMethodNotAllowed},
		{"unknown cluster", http.MethodPost, "/clusters/c9/authorize", sar(sarV1, "groups", uuid.NewString(), "get", "pods", "dev"), http.StatusNotFound},
		{"not json", http.MethodPost, "/clusters/c1/authorize", "{'; DROP TABLE x", http.StatusBadRequest},
		{"wrong kind", http.MethodPost, "/clusters/c1/authorize", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{}}`, http.StatusBadRequest},
		{"no spec", http.MethodPost, "/clusters/c1/authorize", `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview"}`, http.StatusBadRequest},
		{"too large", http.MethodPost, "/clusters/c1/authorize", huge, http.StatusBadRequest},
		{"wrong types", http.MethodPost, "/clusters/c1/authorize", `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"groups":"x","extra":{"oid":"y"}}}`, http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out subjectAccessReview
		if resp.StatusCode != tc.code || json.Unmarshal(raw, &out) != nil || out.Status.Allowed || out.Status.EvaluationError == "" {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, raw)
		}
		for _, leak := range []string{".go:", "sql", "goroutine"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("%s: body leaks %q: %s", tc.name, leak, raw)
			}
		}
	}
	// A review with neither kind of attributes is answered, without an opinion.
	code, out, raw := postSAR(t, url, `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"x","extra":{"oid":["`+uuid.NewString()+`"]}}}`)
	if code != http.StatusOK || out.Status.Allowed || out.Status.Denied || out.Status.EvaluationError == "" {
		t.Errorf("empty spec: %d %s", code, raw)
	}
}

type failingReviewer struct{}

func (failingReviewer) Decide(context.Context, azrbac.Review) (azrbac.Decision, error) {
	return azrbac.Decision{}, errors.New("sql: database is closed at store.go:12")
}

func TestAuthorizeWebhookInternalError(t *testing.T) {
	srv, _, logs := sarServer(t, failingReviewer{})
	code, out, raw := postSAR(t, srv.URL+"/clusters/c1/authorize", sar(sarV1, "groups", uuid.NewString(), "get", "pods", "dev"))
	if code != http.StatusInternalServerError || out.Status.Allowed || strings.Contains(raw, "sql") || strings.Contains(raw, ".go:") {
		t.Errorf("internal error: %d %s", code, raw)
	}
	if !strings.Contains(logs.String(), "database is closed") {
		t.Errorf("the detail belongs in the log: %s", logs)
	}
}
