package aks

import (
	"context"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

const kindEvent = "aks_event" // lower(cluster id)/{time}-{uuid} → Event

// Event is something that happened to a cluster, shaped like a Kubernetes
// event: the cloud provider records what it did as the cluster's identity.
type Event struct {
	Time    time.Time `json:"time"` // on aksid's clock
	Cluster string    `json:"cluster"`
	Type    string    `json:"type"`   // Normal or Warning
	Reason  string    `json:"reason"` // what was tried
	Message string    `json:"message"`
}

func eventPrefix(clusterID string) string { return strings.ToLower(clusterID) + "/" }

// RecordEvent stores e for the cluster at aksid's now and returns it.
func (s *Service) RecordEvent(ctx context.Context, clusterID string, e Event) (Event, error) {
	e.Time, e.Cluster = s.clk.Now().UTC(), clusterID
	// The fixed-width time sorts the keys; the UUID keeps two events of
	// one instant apart.
	key := eventPrefix(clusterID) + e.Time.Format("20060102T150405.000000000Z") + "-" + uuid.NewString()
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.PutJSON(tx, kindEvent, key, e)
	})
	return e, err
}

// Events lists a cluster's events, oldest first.
func (s *Service) Events(ctx context.Context, clusterID string) ([]Event, error) {
	var out []Event
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Event](tx, kindEvent, eventPrefix(clusterID))
		return err
	})
	return out, err
}

// deleteEvents removes a cluster's events with it.
func deleteEvents(tx store.Tx, clusterID string) error {
	items, err := tx.List(kindEvent, eventPrefix(clusterID))
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := tx.Delete(kindEvent, it.Key); err != nil {
			return err
		}
	}
	return nil
}
