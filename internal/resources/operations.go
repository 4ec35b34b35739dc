package resources

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

const kindOperation = "arm_operation" // lower(sub)/id

// Operation states, as ARM's async operation documents spell them.
const (
	OpInProgress = "InProgress"
	OpSucceeded  = "Succeeded"
	OpFailed     = "Failed"
	OpCanceled   = "Canceled"
)

// Operation is a long-running ARM operation: every resource provider
// starts one for asynchronous work and finishes it; ARM clients poll it
// through Azure-AsyncOperation and Location.
type Operation struct {
	ID           string       `json:"id"`
	Subscription string       `json:"subscription"`
	Namespace    string       `json:"namespace"`
	Location     string       `json:"location"`
	ResourceID   string       `json:"resourceId"`
	Status       string       `json:"status"`
	StartTime    time.Time    `json:"startTime"`
	EndTime      time.Time    `json:"endTime,omitzero"`
	Error        *azerr.Error `json:"error,omitempty"`
}

// StartOperation records a new operation in progress (times on aksid's clock).
func (s *Service) StartOperation(ctx context.Context, sub, namespace, location, resourceID string) (Operation, error) {
	op := Operation{ID: uuid.NewString(), Subscription: sub, Namespace: namespace, Location: location,
		ResourceID: resourceID, Status: OpInProgress, StartTime: s.clk.Now().UTC()}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.CreateJSON(tx, kindOperation, strings.ToLower(sub)+"/"+op.ID, op)
	})
	return op, err
}

// FinishOperation ends an operation: succeeded when failure is nil.
func (s *Service) FinishOperation(ctx context.Context, op Operation, failure *azerr.Error) (Operation, error) {
	op.EndTime, op.Status, op.Error = s.clk.Now().UTC(), OpSucceeded, failure
	if failure != nil {
		op.Status = OpFailed
	}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.PutJSON(tx, kindOperation, strings.ToLower(op.Subscription)+"/"+op.ID, op)
	})
	return op, err
}

// GetOperation finds an operation of a subscription.
func (s *Service) GetOperation(ctx context.Context, sub, id string) (Operation, error) {
	var op Operation
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindOperation, strings.ToLower(sub)+"/"+strings.ToLower(id), &op)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Operation{}, azerr.New(azerr.NotFound, "OperationNotFound", "The operation '%s' could not be found.", id)
	}
	return op, err
}
