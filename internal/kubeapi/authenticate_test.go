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

	"github.com/aksid/aksid/internal/guard"
)

const trCluster = sarCluster

// fakeReviewer answers by token: "good" a user, "bad" a refusal, anything
// else a failure to decide.
type fakeReviewer struct{ got guard.Cluster }

func (f *fakeReviewer) Review(_ context.Context, c guard.Cluster, token string) (guard.User, error) {
	f.got = c
	switch token {
	case "good":
		return guard.User{Username: "ada@contoso.test", Groups: []string{"g1", "g2"}, Extra: map[string][]string{"oid": {"oid-1"}}}, nil
	case "bad":
		return guard.User{}, &guard.RefusedError{Reason: "failed to verify token for azure: oidc: token is expired (Token Expiry: x)"}
	}
	return guard.User{}, errors.New("store: database is locked at store.go:12")
}

type fakeClusters map[string]guard.Cluster

func (f fakeClusters) EntraCluster(_ context.Context, id string) (guard.Cluster, error) {
	c, ok := f[id]
	if !ok {
		return guard.Cluster{}, guard.ErrNoEntra
	}
	return c, nil
}

func trServer(t *testing.T, clusters fakeClusters) (*httptest.Server, *fakeReviewer, *bytes.Buffer) {
	t.Helper()
	rev := &fakeReviewer{}
	logs := &bytes.Buffer{}
	h := NewAuthenticateHandler(rev, clusters, func(r *http.Request) (string, bool) {
		return trCluster, r.URL.Path == "/clusters/c1/authenticate"
	}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, rev, logs
}

// tr is a review as kube-apiserver's webhook authenticator sends it.
func tr(apiVersion, token string) string {
	return `{"apiVersion":"` + apiVersion + `","kind":"TokenReview","metadata":{"creationTimestamp":null},` +
		`"spec":{"token":"` + token + `","audiences":["https://kubernetes.default.svc.cluster.local"]},"status":{"user":{}}}`
}

func postTR(t *testing.T, url, body string) (int, map[string]any, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, string(raw)
}

func TestTokenReviewJSON(t *testing.T) {
	want := guard.Cluster{ID: trCluster, TenantID: "t1", Managed: true}
	srv, rev, logs := trServer(t, fakeClusters{trCluster: want})
	url := srv.URL + "/clusters/c1/authenticate"

	code, _, raw := postTR(t, url, tr(trV1, "good"))
	wantBody := `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,` +
		`"user":{"username":"ada@contoso.test","groups":["g1","g2"],"extra":{"oid":["oid-1"]}}}}` + "\n"
	if code != http.StatusOK || raw != wantBody || rev.got != want {
		t.Fatalf("good: %d %s (cluster %+v)", code, raw, rev.got)
	}

	code, out, raw := postTR(t, url, tr(trV1beta1, "bad"))
	st, _ := out["status"].(map[string]any)
	if code != http.StatusOK || out["apiVersion"] != trV1beta1 || st["authenticated"] != false ||
		!strings.Contains(st["error"].(string), "token is expired") || strings.Contains(raw, `"username"`) {
		t.Fatalf("refused: %d %s", code, raw)
	}

	code, _, raw = postTR(t, url, tr(trV1, "boom"))
	if code != http.StatusInternalServerError || strings.Contains(raw, ".go:") || !strings.Contains(logs.String(), "database is locked") {
		t.Fatalf("failure: %d %s", code, raw)
	}
	if strings.Contains(logs.String(), "good") {
		t.Fatal("a token reached the log")
	}
}

func TestTokenReviewRefusesBadRequests(t *testing.T) {
	srv, _, _ := trServer(t, fakeClusters{})
	url := srv.URL + "/clusters/c1/authenticate"
	for _, tc := range []struct {
		name, path, body string
		code             int
		err              string
	}{
		{"unknown cluster", "/clusters/c9/authenticate", tr(trV1, "good"), 404, "no such cluster"},
		{"junk", "", "{", 400, "not a TokenReview"},
		{"wrong kind", "", strings.Replace(tr(trV1, "good"), `"TokenReview"`, `"SubjectAccessReview"`, 1), 400, "expected a TokenReview"},
		{"no spec", "", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview"}`, 400, "expected a TokenReview"},
		{"too large", "", tr(trV1, strings.Repeat("a", trMaxBody)), 400, "too large"},
		{"no Entra", "", tr(trV1, "good"), 200, "no Entra integration"},
	} {
		u := url
		if tc.path != "" {
			u = srv.URL + tc.path
		}
		code, out, raw := postTR(t, u, tc.body)
		st, _ := out["status"].(map[string]any)
		if code != tc.code || st["authenticated"] != false || !strings.Contains(raw, tc.err) {
			t.Errorf("%s: %d %s", tc.name, code, raw)
		}
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}
