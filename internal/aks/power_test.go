package aks

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/azerr"
)

// observed records what the observer was told.
type observed struct {
	mu                   sync.Mutex
	saved, started, gone []string
}

func (o *observed) ClusterSaved(id string) { o.mu.Lock(); o.saved = append(o.saved, id); o.mu.Unlock() }
func (o *observed) ClusterStarted(id string) {
	o.mu.Lock()
	o.started = append(o.started, id)
	o.mu.Unlock()
}
func (o *observed) ClusterDeleted(id string) { o.mu.Lock(); o.gone = append(o.gone, id); o.mu.Unlock() }

// powerCodes are the cluster's power state and its pools', in order.
func powerCodes(t *testing.T, s *Service, id string) []string {
	t.Helper()
	m, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	props := m["properties"].(map[string]any)
	out := []string{str(obj(props, "powerState")["code"])}
	for _, p := range props["agentPoolProfiles"].([]any) {
		out = append(out, str(obj(p.(map[string]any), "powerState")["code"]))
	}
	return out
}

// TestSetPowerStateStopsAndStartsClusterAndPools: stop sets the cluster
// and every pool Stopped, start sets them Running and tells the observer;
// a second stop or start is AKS's 409 OperationNotAllowed, naming when
// the state was set.
func TestSetPowerStateStopsAndStartsClusterAndPools(t *testing.T) {
	ctx := context.Background()
	s, clk := sealingService(t)
	obs := &observed{}
	s.Observe(obs)
	id := clusterID("s", "rg", "c")
	made := clk.Now().UTC()
	pool := func(name string) map[string]any {
		return map[string]any{"name": name, "count": 3.0, "powerState": map[string]any{"code": "Running"}}
	}
	if err := s.save(ctx, id, record{TenantID: "t", PowerSince: made, Model: map[string]any{"id": id, "name": "c", "location": "westus2",
		"properties": map[string]any{"provisioningState": "Succeeded", "powerState": map[string]any{"code": "Running"},
			"agentPoolProfiles": []any{pool("nodepool1"), pool("user1")}}}}); err != nil {
		t.Fatal(err)
	}

	clk.SetOffset(2*time.Hour + 3*time.Second)
	err := s.SetPowerState(ctx, id, true)
	if e, ok := azerr.As(err); !ok || e.Kind != azerr.Conflict || e.Code != "OperationNotAllowed" ||
		e.Message != "managed cluster is in Provisioning State(Succeeded) and Power State(Running), starting cannot be performed The previous operation started at '"+
			made.Format(time.RFC3339)+"' and elapsed time is: '02:00:03' (RFC3339 format)" {
		t.Fatalf("start of a running cluster: %v", err)
	}
	if len(obs.started) != 0 {
		t.Fatalf("a refused start told the observer: %v", obs.started)
	}

	if err := s.SetPowerState(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(powerCodes(t, s, id), ","); got != "Stopped,Stopped,Stopped" {
		t.Fatalf("after stop: %s", got)
	}
	if k, err := s.KubeSpec(ctx, id); err != nil || k.Running {
		t.Fatalf("kube spec after stop: running %v, %v", k.Running, err)
	}
	if len(obs.started) != 0 || len(obs.saved) != 2 {
		t.Fatalf("stop: saved %v, started %v", obs.saved, obs.started)
	}
	stopped := clk.Now().UTC()

	clk.SetOffset(clk.Offset() + 7*24*time.Hour + time.Hour + 16*time.Minute + 37*time.Second)
	err = s.SetPowerState(ctx, id, false)
	if e, ok := azerr.As(err); !ok || e.Kind != azerr.Conflict || e.Code != "OperationNotAllowed" ||
		e.Message != "managed cluster is not currently running, stopping cannot be performed; The stop operation started at '"+
			stopped.Format(time.RFC3339)+"' and elapsed time is: '7 days and 01:16:37' (RFC3339 format)" {
		t.Fatalf("stop of a stopped cluster: %v", err)
	}

	if err := s.SetPowerState(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(powerCodes(t, s, id), ","); got != "Running,Running,Running" {
		t.Fatalf("after start: %s", got)
	}
	if len(obs.started) != 1 || obs.started[0] != id {
		t.Fatalf("start: observer told %v", obs.started)
	}
	// Made with no service-account key of its own (as an older aksid
	// made clusters), it has one once started.
	if k, err := s.KubeSpec(ctx, id); err != nil || !k.Running || k.Key == nil {
		t.Fatalf("kube spec after start: running %v, own key %v, %v", k.Running, k.Key != nil, err)
	}

	err = s.SetPowerState(ctx, id+"x", false)
	if e, ok := azerr.As(err); !ok || e.Kind != azerr.NotFound {
		t.Fatalf("unknown cluster: %v", err)
	}
}

func TestElapsedIsAKSsDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "00:00:00", 59*time.Minute + 1500*time.Millisecond: "00:59:01", 25 * time.Hour: "1 days and 01:00:00", -time.Second: "00:00:00",
	} {
		if got := elapsed(d); got != want {
			t.Errorf("elapsed(%v) = %q, want %q", d, got, want)
		}
	}
}
