package kubeplane

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLBs answers as the cloud provider would, failing while fail is set.
type fakeLBs struct {
	mu      sync.Mutex
	fail    error
	ensured []ServiceRef
	deleted []ServiceRef
}

func (f *fakeLBs) EnsureService(_ context.Context, clusterID string, svc ServiceRef) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if clusterID != testClusterID {
		return "", errors.New("wrong cluster " + clusterID)
	}
	f.ensured = append(f.ensured, svc)
	if f.fail != nil {
		return "", f.fail
	}
	return "20.1.2.3", nil
}

func (f *fakeLBs) DeleteService(_ context.Context, _ string, svc ServiceRef) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, svc)
	return nil
}

func (f *fakeLBs) set(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

func (f *fakeLBs) calls() (ensured, deleted []ServiceRef) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ServiceRef(nil), f.ensured...), append([]ServiceRef(nil), f.deleted...)
}

type testEvent struct {
	Metadata       struct{ Name string }
	InvolvedObject struct{ Kind, Namespace, Name, UID, APIVersion string }
	Reason         string
	Message        string
	Type           string
	Count          int
	Source         struct{ Component string }
	FirstTimestamp string
	LastTimestamp  string
}

func events(t *testing.T, k Kube, ns string) []testEvent {
	t.Helper()
	var list struct{ Items []testEvent }
	if err := k.Get(context.Background(), "/api/v1/namespaces/"+ns+"/events", &list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func eventBy(evs []testEvent, reason string) *testEvent {
	for i := range evs {
		if evs[i].Reason == reason {
			return &evs[i]
		}
	}
	return nil
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func makeService(t *testing.T, k Kube, ns, name string) string {
	t.Helper()
	ctx := context.Background()
	if err := k.Apply(ctx, "/api/v1/namespaces", ns, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}); err != nil {
		t.Fatal(err)
	}
	var created struct{ Metadata struct{ UID string } }
	if err := k.Do(ctx, "POST", "/api/v1/namespaces/"+ns+"/services", "", map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{"type": "LoadBalancer", "selector": map[string]any{"app": name},
			"ports": []any{map[string]any{"name": "http", "port": 80, "targetPort": 8080}}}}, &created); err != nil {
		t.Fatal(err)
	}
	return created.Metadata.UID
}

type svcState struct {
	Metadata struct{ Finalizers []string }
	Status   struct {
		LoadBalancer struct {
			Ingress []struct {
				IP     string `json:"ip"`
				IPMode string `json:"ipMode"`
			} `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

func getService(t *testing.T, k Kube, ns, name string) (svcState, error) {
	var s svcState
	err := k.Get(context.Background(), "/api/v1/namespaces/"+ns+"/services/"+name, &s)
	return s, err
}

func startServices(t *testing.T, k Kube, lb LoadBalancers) {
	t.Helper()
	oldFirst, oldMax, oldWatch := retryFirst, retryMax, watchFor
	retryFirst, retryMax, watchFor = 100*time.Millisecond, 400*time.Millisecond, 2*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runServices(ctx, k, testClusterID, lb, slog.New(slog.NewTextHandler(t.Output(), nil)))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("runServices did not return after its context ended")
		}
		retryFirst, retryMax, watchFor = oldFirst, oldMax, oldWatch
	})
}

// TestLoadBalancerServiceGetsItsIP: the controller asks the cloud provider
// for the Service's load balancer, sets the IP and records the events
// the upstream controller does; deleting the Service releases it.
func TestLoadBalancerServiceGetsItsIP(t *testing.T) {
	k := testKube(t)
	lb := &fakeLBs{}
	startServices(t, k, lb)
	uid := makeService(t, k, "svc-ok", "web")
	var s svcState
	eventually(t, "the ingress IP", func() bool {
		s, _ = getService(t, k, "svc-ok", "web")
		return len(s.Status.LoadBalancer.Ingress) > 0
	})
	if in := s.Status.LoadBalancer.Ingress[0]; in.IP != "20.1.2.3" || in.IPMode != "VIP" || len(s.Metadata.Finalizers) != 1 {
		t.Fatalf("service: %+v", s)
	}
	ensured, _ := lb.calls()
	if len(ensured) != 1 || ensured[0].UID != uid || ensured[0].Namespace != "svc-ok" || ensured[0].Name != "web" ||
		len(ensured[0].Ports) != 1 || ensured[0].Ports[0].Port != 80 || ensured[0].Ports[0].Protocol != "TCP" || ensured[0].Ports[0].NodePort == 0 {
		t.Fatalf("EnsureService calls: %+v", ensured)
	}
	var evs []testEvent
	eventually(t, "EnsuredLoadBalancer", func() bool { evs = events(t, k, "svc-ok"); return eventBy(evs, "EnsuredLoadBalancer") != nil })
	for _, reason := range []string{"EnsuringLoadBalancer", "EnsuredLoadBalancer"} {
		e := eventBy(evs, reason)
		if e == nil || e.Type != "Normal" || e.Source.Component != "service-controller" || e.InvolvedObject.Kind != "Service" ||
			e.InvolvedObject.UID != uid || e.InvolvedObject.Name != "web" || e.InvolvedObject.APIVersion != "v1" || e.Count != 1 || e.FirstTimestamp == "" {
			t.Fatalf("%s: %+v", reason, e)
		}
	}
	if e := eventBy(evs, "EnsuringLoadBalancer"); e.Message != "Ensuring load balancer" {
		t.Fatalf("message %q", e.Message)
	}

	if err := k.Delete(context.Background(), "/api/v1/namespaces/svc-ok/services/web"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted Service to go", func() bool {
		_, err := getService(t, k, "svc-ok", "web")
		return IsNotFound(err)
	})
	if _, deleted := lb.calls(); len(deleted) != 1 || deleted[0].UID != uid {
		t.Fatalf("DeleteService calls: %+v", deleted)
	}
}

// TestLoadBalancerFailureRetries: Azure's refusal is a Warning event in
// cloud-provider-azure's words, repeated by count, until the cause is
// fixed and the next attempt succeeds.
func TestLoadBalancerFailureRetries(t *testing.T) {
	k := testKube(t)
	lb := &fakeLBs{fail: errors.New(`Retriable: false, RetryAfter: 0s, HTTPStatusCode: 403, RawError: {"error":{"code":"AuthorizationFailed","message":"no"}}`)}
	startServices(t, k, lb)
	makeService(t, k, "svc-fail", "web")
	want := `Error syncing load balancer: failed to ensure load balancer: Retriable: false, RetryAfter: 0s, HTTPStatusCode: 403, RawError: {"error":{"code":"AuthorizationFailed","message":"no"}}`
	var evs []testEvent
	eventually(t, "a repeated failure", func() bool {
		evs = events(t, k, "svc-fail")
		e := eventBy(evs, "SyncLoadBalancerFailed")
		return e != nil && e.Count >= 3
	})
	e := eventBy(evs, "SyncLoadBalancerFailed")
	if e.Type != "Warning" || e.Message != want {
		t.Fatalf("failure event: %+v", e)
	}
	n := 0
	for _, ev := range evs {
		if ev.Reason == "SyncLoadBalancerFailed" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d failure events: repeats should bump one event's count", n)
	}
	if s, _ := getService(t, k, "svc-fail", "web"); len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("ingress while failing: %+v", s)
	}
	// Backoff: attempts are spaced, not a hot loop.
	ensured, _ := lb.calls()
	if len(ensured) > 8 {
		t.Fatalf("%d attempts: no backoff", len(ensured))
	}

	lb.set(nil)
	eventually(t, "the IP after the fix", func() bool {
		s, _ := getService(t, k, "svc-fail", "web")
		return len(s.Status.LoadBalancer.Ingress) == 1 && s.Status.LoadBalancer.Ingress[0].IP == "20.1.2.3"
	})
	eventually(t, "EnsuredLoadBalancer", func() bool { return eventBy(events(t, k, "svc-fail"), "EnsuredLoadBalancer") != nil })
}

// TestServiceNoLongerLoadBalancer: a Service changed to ClusterIP loses
// its load balancer, its ingress and the finalizer.
func TestServiceNoLongerLoadBalancer(t *testing.T) {
	k := testKube(t)
	lb := &fakeLBs{}
	startServices(t, k, lb)
	makeService(t, k, "svc-type", "web")
	eventually(t, "the ingress IP", func() bool {
		s, _ := getService(t, k, "svc-type", "web")
		return len(s.Status.LoadBalancer.Ingress) > 0
	})
	patch := map[string]any{"spec": map[string]any{"type": "ClusterIP", "ports": []any{map[string]any{"name": "http", "port": 80, "targetPort": 8080, "nodePort": nil}}}}
	if err := k.Do(context.Background(), "PATCH", "/api/v1/namespaces/svc-type/services/web", mergePath, patch, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the release", func() bool {
		s, _ := getService(t, k, "svc-type", "web")
		return len(s.Metadata.Finalizers) == 0 && len(s.Status.LoadBalancer.Ingress) == 0
	})
	if _, deleted := lb.calls(); len(deleted) != 1 {
		t.Fatalf("DeleteService calls: %+v", deleted)
	}
	if !strings.Contains(events(t, k, "svc-type")[0].InvolvedObject.Name, "web") {
		t.Fatal("events name the Service")
	}
}
