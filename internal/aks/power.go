package aks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
)

// Power states of a cluster and its agent pools, as ARM shows them.
const (
	powerRunning = "Running"
	powerStopped = "Stopped"
)

// SetPowerState stops (az aks stop) or starts (az aks start) a cluster:
// properties.powerState and every agent pool's follow. A second stop or
// start is refused with AKS's 409 OperationNotAllowed. On start the
// observer learns of it, so the API server starts at once.
func (s *Service) SetPowerState(ctx context.Context, id string, running bool) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	props := obj(r.Model, "properties")
	cur := str(obj(props, "powerState")["code"])
	if cur == "" {
		cur = powerRunning
	}
	now := s.clk.Now().UTC()
	want := powerStopped
	if running {
		want = powerRunning
	}
	if strings.EqualFold(cur, want) {
		return s.samePower(r, props, running, now)
	}
	props["powerState"] = map[string]any{"code": want}
	pools, _ := props["agentPoolProfiles"].([]any)
	for _, p := range pools {
		if pool, ok := p.(map[string]any); ok {
			pool["powerState"] = map[string]any{"code": want}
		}
	}
	r.PowerSince = now
	if err := s.keepSAKey(&r); err != nil {
		return err
	}
	if err := s.save(ctx, id, r); err != nil {
		return err
	}
	if running && s.obs != nil {
		s.obs.ClusterStarted(str(r.Model["id"]))
	}
	return nil
}

// samePower is AKS's refusal of a stop of a stopped cluster (worded as
// its troubleshooting guide quotes it) or a start of a running one (AKS's
// "Provisioning State(…) and Power State(…)" form of the same refusal).
func (s *Service) samePower(r record, props map[string]any, running bool, now time.Time) error {
	// since names the operation that set the current state, as AKS does.
	since := func(sep, op string) string {
		if r.PowerSince.IsZero() {
			return ""
		}
		return fmt.Sprintf("%sThe %s operation started at '%s' and elapsed time is: '%s' (RFC3339 format)",
			sep, op, r.PowerSince.Format(time.RFC3339), elapsed(now.Sub(r.PowerSince)))
	}
	if !running {
		return azerr.New(azerr.Conflict, "OperationNotAllowed",
			"managed cluster is not currently running, stopping cannot be performed%s", since("; ", "stop"))
	}
	state := str(props["provisioningState"])
	if state == "" {
		state = "Succeeded"
	}
	return azerr.New(azerr.Conflict, "OperationNotAllowed",
		"managed cluster is in Provisioning State(%s) and Power State(%s), starting cannot be performed%s", state, powerRunning, since(" ", "previous"))
}

// elapsed is AKS's duration: "00:00:05", or "7 days and 01:16:37".
func elapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hms := fmt.Sprintf("%02d:%02d:%02d", int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60)
	if days == 0 {
		return hms
	}
	return fmt.Sprintf("%d days and %s", days, hms)
}

// refuseStopped is AKS's 409 for an action (named as its message words
// it) on a stopped cluster; nil when the cluster runs. AKS's stop/start
// doc: a stopped cluster can only be started or deleted, so every other
// write asks this first; reads (show, get-credentials) do not.
func refuseStopped(model map[string]any, action string) error {
	if !clusterStopped(model) {
		return nil
	}
	props := obj(model, "properties")
	state := str(props["provisioningState"])
	if state == "" {
		state = "Succeeded"
	}
	return azerr.New(azerr.Conflict, "OperationNotAllowed",
		"managed cluster is in Provisioning State(%s) and Power State(%s), %s cannot be performed", state, powerStopped, action)
}

// clusterStopped tells whether az aks stop stopped the cluster.
func clusterStopped(model map[string]any) bool {
	props, _ := model["properties"].(map[string]any)
	return strings.EqualFold(powerCode(props), powerStopped)
}
