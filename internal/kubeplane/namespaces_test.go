package kubeplane

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestNamespacesAsTheControllerManagerKeepsThem: a new namespace gets its
// default service account and the cluster CA, so a pod can be made in it
// (kubectl run); a deleted namespace with objects in it, a pod and a
// Deployment among them, is emptied and goes, rather than staying
// Terminating.
func TestNamespacesAsTheControllerManagerKeepsThem(t *testing.T) {
	k := testKube(t)
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	oldWatch := watchFor
	watchFor = 2 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runNamespaces(ctx, k, []byte(ca), slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-done; watchFor = oldWatch })

	post := func(path string, obj map[string]any) {
		t.Helper()
		if err := k.Do(ctx, "POST", path, "", obj, nil); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	post("/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "team-a"}})
	eventually(t, "the default service account", func() bool {
		return k.Get(ctx, "/api/v1/namespaces/team-a/serviceaccounts/default", nil) == nil
	})
	var cm struct{ Data map[string]string }
	eventually(t, "the root CA ConfigMap", func() bool {
		return k.Get(ctx, "/api/v1/namespaces/team-a/configmaps/kube-root-ca.crt", &cm) == nil
	})
	if cm.Data["ca.crt"] != ca {
		t.Fatalf("kube-root-ca.crt without the CA: %v", cm.Data)
	}
	// Holding another CA (one since rotated, or edited), it is given the
	// cluster's again, and only that.
	edit := map[string]any{"data": map[string]any{"ca.crt": "a CA since rotated", "extra": "x"}}
	if err := k.Do(ctx, "PATCH", "/api/v1/namespaces/team-a/configmaps/kube-root-ca.crt", "application/merge-patch+json", edit, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cluster CA published again", func() bool {
		cm.Data = nil
		return k.Get(ctx, "/api/v1/namespaces/team-a/configmaps/kube-root-ca.crt", &cm) == nil && cm.Data["ca.crt"] == ca && len(cm.Data) == 1
	})
	// Deleted, the default account is made again.
	if err := k.Delete(ctx, "/api/v1/namespaces/team-a/serviceaccounts/default"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the default service account made again", func() bool {
		return k.Get(ctx, "/api/v1/namespaces/team-a/serviceaccounts/default", nil) == nil
	})
	// A pod with no service account named: the default one.
	post("/api/v1/namespaces/team-a/pods", map[string]any{"metadata": map[string]any{"name": "p"},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}}})
	post("/apis/apps/v1/namespaces/team-a/deployments", map[string]any{"metadata": map[string]any{"name": "d"},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "d"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "d"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}}}}})

	if err := k.Delete(ctx, "/api/v1/namespaces/team-a"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the namespace gone", func() bool {
		return IsNotFound(k.Get(ctx, "/api/v1/namespaces/team-a", nil))
	})
	// Made again, it is empty and gets its defaults anew.
	post("/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "team-a"}})
	eventually(t, "the default service account again", func() bool {
		return k.Get(ctx, "/api/v1/namespaces/team-a/serviceaccounts/default", nil) == nil
	})
	var deps struct{ Items []any }
	if err := k.Get(ctx, "/apis/apps/v1/namespaces/team-a/deployments", &deps); err != nil || len(deps.Items) != 0 {
		t.Fatalf("deployments in the new namespace: %v %v", deps.Items, err)
	}
}
