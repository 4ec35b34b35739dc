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

var updateSeed = flag.Bool("update-seed", false, "rewrite seed.json from what an unseeded kube-apiserver makes (go test -run TestRealAPIServer -update-seed)")

// checkSeed waits for the server's own hooks to finish, then compares
// the objects of the seeded kinds it holds with seed.json. Seeded, the
// hooks and controllers must have written none of them (all they make
// was there); unseeded, they must have made exactly the seed (nothing
// more was seeded). With -update-seed, unseeded, it rewrites the file
// instead.
func checkSeed(t *testing.T, ep *Endpoint, seeded bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for !ready(ctx, ep, "/readyz") {
		select {
		case <-ctx.Done():
			t.Fatal("/readyz: the start-up hooks never finished")
		case <-time.After(100 * time.Millisecond):
		}
	}
	live, written := liveSeedKinds(t, ep)
	if *updateSeed && !seeded {
		v, err := kassrc.Version()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("seed.json", encodeSeed(bootstrapSeed{Version: v, Objects: live}), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote seed.json: %d objects of %s", len(live), v)
		return
	}
	var seed bootstrapSeed
	if err := json.Unmarshal(seedJSON, &seed); err != nil {
		t.Fatal(err)
	}
	const update = "go test ./internal/apiserver -run TestRealAPIServer -update-seed"
	if v, _ := kassrc.Version(); seed.Version != v {
		t.Fatalf("seed.json is of %s, kube-apiserver %s: %s", seed.Version, v, update)
	}
	// What the API wrote carries managed fields; what was seeded, none.
	if seeded && len(written) > 0 {
		t.Fatalf("the server wrote what was not seeded: %s: %s", strings.Join(written, ", "), update)
	}
	if got, want := encodeSeed(bootstrapSeed{Version: seed.Version, Objects: live}), encodeSeed(seed); !bytes.Equal(got, want) {
		t.Fatalf("the server's own objects are not seed.json's: %s\ngot:\n%s", update, got)
	}
}

// liveSeedKinds lists the server's objects of the seeded kinds in etcd's
// order, without what the API adds to each (uid, resource version, times,
// managed fields), and names those that have managed fields.
func liveSeedKinds(t *testing.T, ep *Endpoint) (objs []json.RawMessage, written []string) {
	t.Helper()
	for _, k := range seedKinds {
		kind, url := k.kind, k.list
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ep.URL+url, nil)
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
			o["apiVersion"], o["kind"] = path.Dir(strings.TrimPrefix(strings.TrimPrefix(url, "/apis/"), "/api/")), kind
			meta := o["metadata"].(map[string]any)
			if meta["managedFields"] != nil {
				written = append(written, kind+" "+path.Join(str(meta["namespace"]), str(meta["name"])))
			}
			for _, k := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"} {
				delete(meta, k)
			}
			if status, ok := o["status"].(map[string]any); ok {
				conds, _ := status["conditions"].([]any)
				for _, c := range conds {
					delete(c.(map[string]any), "lastTransitionTime")
				}
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
func encodeSeed(s bootstrapSeed) []byte {
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
