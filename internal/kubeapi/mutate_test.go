package kubeapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakePods has the service account "wi-sa" in namespace "apps" of
// cluster c1; "broken" fails to be read.
type fakePods struct{}

func (fakePods) ServiceAccountAnnotations(_ context.Context, cluster, ns, name string) (map[string]string, error) {
	switch {
	case name == "broken":
		return nil, errors.New("kube-apiserver: connection refused at 127.0.0.1:40001")
	case cluster == "c1" && ns == "apps" && name == "wi-sa":
		return map[string]string{"azure.workload.identity/client-id": "client-1"}, nil
	}
	return nil, ErrNoServiceAccount
}

func (fakePods) TenantOf(context.Context, string) (string, error) { return "tenant-1", nil }

func arServer(t *testing.T) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	h := NewMutateHandler(fakePods{}, func(r *http.Request) (string, bool) {
		return "c1", r.Header.Get("Authorization") == "Bearer t1"
	}, slog.New(slog.NewTextHandler(logs, nil)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, logs
}

// ar is a review as kube-apiserver's mutating webhook plugin sends it.
func ar(apiVersion, kind, op, sa string) string {
	return `{"apiVersion":"` + apiVersion + `","kind":"AdmissionReview","request":{"uid":"u-1",` +
		`"kind":{"group":"","version":"v1","kind":"` + kind + `"},"resource":{"group":"","version":"v1","resource":"pods"},` +
		`"namespace":"apps","operation":"` + op + `","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p",` +
		`"labels":{"azure.workload.identity/use":"true"}},"spec":{"serviceAccountName":"` + sa + `","containers":[{"name":"c","image":"busybox"}]}}}}`
}

func postAR(t *testing.T, srv *httptest.Server, token, body string) (int, admissionReview) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out admissionReview
	if err := json.Unmarshal(b, &out); err != nil || out.Response == nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return resp.StatusCode, out
}

func TestMutatePatchesAPod(t *testing.T) {
	srv, _ := arServer(t)
	for _, v := range []string{"admission.k8s.io/v1", "admission.k8s.io/v1beta1"} {
		code, out := postAR(t, srv, "t1", ar(v, "Pod", "CREATE", "wi-sa"))
		r := out.Response
		if code != 200 || out.APIVersion != v || r.UID != "u-1" || !r.Allowed || r.PatchType != "JSONPatch" {
			t.Fatalf("%s: %d %+v", v, code, out)
		}
		var ops []struct{ Op, Path string }
		if err := json.Unmarshal(r.Patch, &ops); err != nil || len(ops) != 3 {
			t.Fatalf("patch %s: %v", r.Patch, err)
		}
		if !strings.Contains(string(r.Patch), `"value":"client-1"`) || !strings.Contains(string(r.Patch), `"value":"tenant-1"`) {
			t.Fatalf("patch without the service account's client or the cluster's tenant: %s", r.Patch)
		}
	}
	// On the wire the patch is base64, as the field's type ([]byte) wants.
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(ar("admission.k8s.io/v1", "Pod", "CREATE", "wi-sa")))
	req.Header.Set("Authorization", "Bearer t1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct{ Response struct{ Patch string } }
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	resp.Body.Close()
	if b, err := base64.StdEncoding.DecodeString(raw.Response.Patch); err != nil || !bytes.HasPrefix(b, []byte(`[{"op":"add"`)) {
		t.Fatalf("patch on the wire %q", raw.Response.Patch)
	}
}

func TestMutateRefusals(t *testing.T) {
	srv, logs := arServer(t)
	// Not the cluster's token: as if nothing were there.
	if code, _ := postAR(t, srv, "other", ar("admission.k8s.io/v1", "Pod", "CREATE", "wi-sa")); code != 404 {
		t.Fatalf("a stranger's review: %d", code)
	}
	if code, _ := postAR(t, srv, "t1", `{"apiVersion":"admission.k8s.io/v1","kind":"TokenReview","request":{}}`); code != 400 {
		t.Fatalf("another kind: %d", code)
	}
	// Only a pod's creation is changed.
	if _, out := postAR(t, srv, "t1", ar("admission.k8s.io/v1", "Pod", "UPDATE", "wi-sa")); !out.Response.Allowed || out.Response.Patch != nil {
		t.Fatalf("update: %+v", out.Response)
	}
	// A missing service account refuses the pod, in the API server's words.
	_, out := postAR(t, srv, "t1", ar("admission.k8s.io/v1", "Pod", "CREATE", "nobody"))
	if r := out.Response; r.Allowed || r.Result == nil || r.Result.Code != 400 || r.Result.Message != `serviceaccounts "nobody" not found` {
		t.Fatalf("missing service account: %+v", r)
	}
	// A failure to read it is not the pod's fault, and says nothing inside.
	_, out = postAR(t, srv, "t1", ar("admission.k8s.io/v1", "Pod", "CREATE", "broken"))
	if r := out.Response; r.Allowed || r.Result.Code != 500 || strings.Contains(r.Result.Message, "127.0.0.1") {
		t.Fatalf("failure: %+v", r)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("the failure was not logged: %s", logs)
	}
}
