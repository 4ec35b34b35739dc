package kubeplane

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestPodsSayWhyTheyStayPending: a pod no node has taken is marked as the
// scheduler marks one no node can take (PodScheduled False,
// Unschedulable) with aksid's reason, and gets one FailedScheduling
// Event saying it; a pod bound to a node is left alone, and a controller
// started again (aksid restarted) adds no second Event.
func TestPodsSayWhyTheyStayPending(t *testing.T) {
	k := testKube(t)
	oldWatch := watchFor
	watchFor = 2 * time.Second
	t.Cleanup(func() { watchFor = oldWatch })
	ctx := t.Context()
	run := func() (stop func()) {
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			runPods(cctx, k, slog.New(slog.DiscardHandler))
		}()
		return func() { cancel(); <-done }
	}
	stop := run()

	const ns = "pods-pending"
	post := func(path string, obj map[string]any) {
		t.Helper()
		if err := k.Do(ctx, "POST", path, "", obj, nil); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	post("/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": ns}})
	t.Cleanup(func() { _ = k.Delete(context.Background(), "/api/v1/namespaces/"+ns) })
	post("/api/v1/namespaces/"+ns+"/serviceaccounts", map[string]any{"metadata": map[string]any{"name": "default"}})
	container := []any{map[string]any{"name": "c", "image": "nginx"}}
	post("/api/v1/namespaces/"+ns+"/pods", map[string]any{"metadata": map[string]any{"name": "waits"},
		"spec": map[string]any{"containers": container}})
	post("/api/v1/namespaces/"+ns+"/pods", map[string]any{"metadata": map[string]any{"name": "bound"},
		"spec": map[string]any{"containers": container, "nodeName": "aks-nodepool1-12345678-vmss000000"}})

	type condition struct{ Type, Status, Reason, Message string }
	conditions := func(name string) []condition {
		var p struct {
			Status struct{ Conditions []condition }
		}
		if err := k.Get(ctx, "/api/v1/namespaces/"+ns+"/pods/"+name, &p); err != nil {
			t.Fatal(err)
		}
		return p.Status.Conditions
	}
	eventually(t, "the waiting pod marked", func() bool {
		c := conditions("waits")
		return len(c) == 1 && c[0] == condition{"PodScheduled", "False", "Unschedulable", podNotRun}
	})
	events := func() map[string]int {
		var list struct{ Items []testEvent }
		if err := k.Get(ctx, "/api/v1/namespaces/"+ns+"/events", &list); err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, e := range list.Items {
			if e.Type != "Warning" || e.Reason != "FailedScheduling" || e.Message != podNotRun || e.InvolvedObject.Kind != "Pod" || e.Source.Component != podComponent {
				t.Fatalf("unexpected event %+v", e)
			}
			n[e.InvolvedObject.Name] += e.Count
		}
		return n
	}
	eventually(t, "its event", func() bool { return events()["waits"] == 1 })

	stop()
	stop = run()
	defer stop()
	// A later pod is marked by the new run: the earlier one was seen by
	// then, and is not told again.
	post("/api/v1/namespaces/"+ns+"/pods", map[string]any{"metadata": map[string]any{"name": "later"},
		"spec": map[string]any{"containers": container}})
	eventually(t, "the later pod's event", func() bool { return events()["later"] == 1 })
	if n := events(); n["waits"] != 1 || n["bound"] != 0 || len(n) != 2 {
		t.Fatalf("events by pod: %v, want one each for the waiting pods", n)
	}
	if c := conditions("bound"); len(c) != 0 {
		t.Fatalf("a bound pod was marked: %v", c)
	}
}
