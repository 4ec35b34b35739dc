package aks

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
)

const kindCheck = "aks_check" // lower(cluster id) → CheckRun, the last one

// CheckRun is a cluster check's outcome: what the cluster's identity tried
// and whether Azure let it, kept so the portal can show the last one.
type CheckRun struct {
	Time    time.Time     `json:"time"` // on aksid's clock
	Results []CheckResult `json:"results"`
}

// CheckResult is one thing tried.
type CheckResult struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Passed tells whether every check succeeded.
func (r CheckRun) Passed() bool {
	for _, c := range r.Results {
		if !c.OK {
			return false
		}
	}
	return true
}

// RecordCheck keeps run, at aksid's now, as the cluster's last check. A
// cluster deleted meanwhile keeps nothing.
func (s *Service) RecordCheck(ctx context.Context, clusterID string, results []CheckResult) (CheckRun, error) {
	run := CheckRun{Time: s.clk.Now().UTC(), Results: results}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(kindCluster, strings.ToLower(clusterID)); err != nil {
			return err
		}
		return store.PutJSON(tx, kindCheck, strings.ToLower(clusterID), run)
	})
	if errors.Is(err, store.ErrNotFound) {
		_, err = s.load(ctx, clusterID) // the ARM error for a missing cluster
	}
	return run, err
}

// LastCheck is the cluster's last check; ok is false when none ran.
func (s *Service) LastCheck(ctx context.Context, clusterID string) (run CheckRun, ok bool, err error) {
	err = s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindCheck, strings.ToLower(clusterID), &run)
	})
	if errors.Is(err, store.ErrNotFound) {
		return CheckRun{}, false, nil
	}
	return run, err == nil, err
}
