package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/apiserver/kassrc"
)

var updateRBACSeed = flag.Bool("update-rbac-seed", false, "rewrite rbacseed.json from what an unseeded kube-apiserver's hook makes (go test -run TestRealAPIServer -update-rbac-seed)")

// checkRBACSeed waits for the server's own RBAC hook to finish, then
// compares the RBAC objects it holds with rbacseed.json. Seeded, the hook
// must have written nothing (all it makes was there); unseeded, it must
// have made exactly the seed (nothing more was seeded). With
// -update-rbac-seed, unseeded, it rewrites the file instead.
func checkRBACSeed(t *testing.T, ep *Endpoint, seeded bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for !ready(ctx, ep, "/readyz") {
		select {
		case <-ctx.Done():
			t.Fatal("/readyz: the RBAC hook never finished")
		case <-time.After(100 * time.Millisecond):
		}
	}
	live, written := liveRBAC(t, ep)
	if *updateRBACSeed && !seeded {
		v, err := kassrc.Version()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("rbacseed.json", encodeSeed(rbacSeed{Version: v, Objects: live}), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote rbacseed.json: %d objects of %s", len(live), v)
		return
	}
	var seed rbacSeed
	if err := json.Unmarshal(rbacSeedJSON, &seed); err != nil {
		t.Fatal(err)
	}
	const update = "go test ./internal/apiserver -run TestRealAPIServer -update-rbac-seed"
	if v, _ := kassrc.Version(); seed.Version != v {
		t.Fatalf("rbacseed.json is of %s, kube-apiserver %s: %s", seed.Version, v, update)
	}
	// What the API wrote carries managed fields; what was seeded, none.
	if seeded && len(written) > 0 {
		t.Fatalf("the RBAC hook wrote what was not seeded: %s: %s", strings.Join(written, ", "), update)
	}
	if got, want := encodeSeed(rbacSeed{Version: seed.Version, Objects: live}), encodeSeed(seed); !bytes.Equal(got, want) {
		t.Fatalf("the RBAC hook's objects are not rbacseed.json's: %s\ngot:\n%s", update, got)
	}
}

// liveRBAC lists the server's RBAC objects in etcd's order, without what
// the API adds to each (uid, resource version, times, managed fields),
// and names those that have managed fields.
func liveRBAC(t *testing.T, ep *Endpoint) (objs []json.RawMessage, written []string) {
	t.Helper()
	for _, kind := range []string{"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ep.URL+"/apis/rbac.authorization.k8s.io/v1/"+rbacResources[kind], nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ep.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list %s: %v %s", kind, err, b)
		}
		var list struct{ Items []map[string]any }
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Items {
			o["apiVersion"], o["kind"] = "rbac.authorization.k8s.io/v1", kind
			meta := o["metadata"].(map[string]any)
			if meta["managedFields"] != nil {
				written = append(written, kind+" "+path.Join(str(meta["namespace"]), str(meta["name"])))
			}
			for _, k := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"} {
				delete(meta, k)
			}
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, b)
		}
	}
	return objs, written
}

func str(v any) string { s, _ := v.(string); return s }

// encodeSeed writes one object a line, so a new release's changes read as
// a diff.
func encodeSeed(s rbacSeed) []byte {
	lines := make([]string, 0, len(s.Objects))
	for _, o := range s.Objects {
		var v any
		_ = json.Unmarshal(o, &v)
		b, _ := json.Marshal(v) // map keys sorted
		lines = append(lines, string(b))
	}
	v, _ := json.Marshal(s.Version)
	return []byte("{\"version\": " + string(v) + ", \"objects\": [\n" + strings.Join(lines, ",\n") + "\n]}\n")
}
