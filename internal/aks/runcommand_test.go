package aks

import (
	"context"
	"regexp"
	"testing"

	"github.com/aksid/aksid/internal/azerr"
)

// TestRunCommandSaysWhyNoCommandRuns: az aks command invoke is refused
// with AKS's code for a command whose pod never started and a reason a
// user can act on; an empty command, a cluster that does not exist and a
// stopped cluster are refused before that, each with its own code.
func TestRunCommandSaysWhyNoCommandRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := sealingService(t)
	id := clusterID("s", "rg", "c")
	model := func(power string) map[string]any {
		return map[string]any{"id": id, "name": "c", "location": "westus2",
			"properties": map[string]any{"provisioningState": "Succeeded", "powerState": map[string]any{"code": power}}}
	}
	if err := s.save(ctx, id, record{TenantID: "t", Model: model("Running")}); err != nil {
		t.Fatal(err)
	}
	cmd := RunCommandRequest{Command: "kubectl get nodes"}

	err := s.RunCommand(ctx, id, cmd)
	e, ok := azerr.As(err)
	if !ok || e.Kind != azerr.Invalid || e.Code != "KubernetesOperationError" ||
		!regexp.MustCompile(`container command-[0-9a-f]{32} in aks-command namespace cannot start: aksid's clusters run no pods`).MatchString(e.Message) {
		t.Fatalf("running cluster: got %v", err)
	}
	if again, _ := azerr.As(s.RunCommand(ctx, id, cmd)); again == nil || again.Message == e.Message {
		t.Fatalf("two commands got the same command ID: %v", again)
	}

	for _, c := range []struct {
		name string
		id   string
		req  RunCommandRequest
		kind azerr.Kind
		code string
	}{
		{"empty command", id, RunCommandRequest{Command: "  "}, azerr.Invalid, "InvalidParameter"},
		{"no such cluster", clusterID("s", "rg", "other"), cmd, azerr.NotFound, "ResourceNotFound"},
	} {
		if e, ok := azerr.As(s.RunCommand(ctx, c.id, c.req)); !ok || e.Kind != c.kind || e.Code != c.code {
			t.Errorf("%s: got %v, want %s", c.name, e, c.code)
		}
	}

	if err := s.save(ctx, id, record{TenantID: "t", Model: model("Stopped")}); err != nil {
		t.Fatal(err)
	}
	if e, ok := azerr.As(s.RunCommand(ctx, id, cmd)); !ok || e.Kind != azerr.Conflict || e.Code != "OperationNotAllowed" {
		t.Fatalf("stopped cluster: got %v", e)
	}
}
