// Package rbac keeps Azure role definitions and role assignments and decides whether a caller may perform an action at a scope.
package rbac

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store"
	"github.com/google/uuid"
)

// Store kinds. KindAssignment is shared with bootstrap, which writes the
// first Owner assignments through InsertAssignment.
const (
	KindAssignment = "role_assignment"     // Assignment by lower-case GUID name
	kindDefinition = "role_definition"     // custom RoleDefinition by lower-case GUID name
	kindUnique     = "role_assignment_key" // role|principal|scope → assignment name; enforces uniqueness, lists a role's users
)

// ARM error codes this package returns. The ARM face maps them to statuses.
const (
	CodeAuthorizationFailed              = "AuthorizationFailed"
	CodeRoleAssignmentExists             = "RoleAssignmentExists"
	CodeRoleAssignmentNotFound           = "RoleAssignmentNotFound"
	CodeRoleAssignmentUpdateNotPermitted = "RoleAssignmentUpdateNotPermitted"
	CodeScopeNotAssignable               = "RoleAssignmentScopeNotAssignableToRoleDefinition"
	CodeRoleDefinitionDoesNotExist       = "RoleDefinitionDoesNotExist"
	CodeRoleDefinitionHasAssignments     = "RoleDefinitionHasAssignments"
	CodeRoleDefinitionWithSameNameExists = "RoleDefinitionWithSameNameExists"
	CodeInvalidPrincipalID               = "InvalidPrincipalId"
	CodeInvalidRoleAssignmentID          = "InvalidRoleAssignmentId"
	CodeInvalidPrincipalType             = "InvalidPrincipalType"
	CodeInvalidRoleDefinition            = "InvalidRoleDefinition"
	CodeBuiltInRoleReadOnly              = "RoleDefinitionIsBuiltIn"
	CodeInvalidFilter                    = "InvalidFilter"
)

// Error is the one ARM-shaped refusal, azerr.Error: a kind and ARM's code
// and message, no HTTP status. The alias keeps this package's signatures.
type Error = azerr.Error

// kinds classifies this package's codes; any other code is Invalid.
var kinds = map[string]azerr.Kind{
	CodeAuthorizationFailed: azerr.Forbidden, CodeRoleAssignmentExists: azerr.Conflict,
	CodeRoleAssignmentNotFound: azerr.NotFound, CodeRoleDefinitionDoesNotExist: azerr.NotFound,
	CodeRoleDefinitionHasAssignments: azerr.Conflict, CodeRoleDefinitionWithSameNameExists: azerr.Conflict,
}

func errorf(code, format string, args ...any) *Error {
	kind, ok := kinds[code]
	if !ok {
		kind = azerr.Invalid
	}
	return azerr.New(kind, code, format, args...)
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	e, ok := azerr.As(err)
	return ok && e.Code == code
}

// Options tune a Service.
type Options struct {
	// Propagation delays every new assignment: it counts for decisions only
	// once aksid's clock reaches its createdOn plus Propagation, as Azure's
	// RBAC caches make callers wait.
	Propagation time.Duration
}

// Service reads and writes role definitions and assignments and answers
// authorization questions from an in-memory index.
//
// Writes through the Service update the index at once. Writes by another
// process on the same store (another replica, bootstrap) are seen after
// Refresh.
type Service struct {
	st       store.Store
	clk      clock.Clock
	opts     Options
	builtins []RoleDefinition // sorted by roleName
	builtin  map[string]int   // lower-case GUID → index in builtins

	mu  sync.RWMutex
	idx *index
}

// New returns a Service over st whose decisions are made at clk's time,
// with its index loaded from the store.
func New(ctx context.Context, st store.Store, clk clock.Clock, opts Options) (*Service, error) {
	defs, err := loadBuiltins()
	if err != nil {
		return nil, err
	}
	s := &Service{st: st, clk: clk, opts: opts, builtins: defs, builtin: make(map[string]int, len(defs))}
	for i, d := range defs {
		s.builtin[d.Name] = i
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Refresh rebuilds the index from the store: every custom role and every
// assignment. Decisions keep using the old index until the new one is ready.
func (s *Service) Refresh(ctx context.Context) error {
	idx := newIndex()
	for _, d := range s.builtins {
		idx.putRole(d)
	}
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		defs, err := store.ListJSON[RoleDefinition](tx, kindDefinition, "")
		if err != nil {
			return err
		}
		for _, d := range defs {
			idx.putRole(d)
		}
		items, err := store.ListJSON[Assignment](tx, KindAssignment, "")
		if err != nil {
			return err
		}
		for _, a := range items {
			if err := idx.putAssignment(a, s.opts.Propagation); err != nil {
				return fmt.Errorf("rbac: role assignment %s: %w", a.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.idx = idx
	s.mu.Unlock()
	return nil
}

// withIndex runs fn on the index under the write lock.
func (s *Service) withIndex(fn func(*index)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.idx)
}

// parseGUID accepts only the 36-character form, returned in lower case
// (Azure's names are case-insensitive and shown in lower case).
func parseGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	if _, err := uuid.Parse(s); err != nil {
		return "", false
	}
	return strings.ToLower(s), true
}

func sortByName[T any](v []T, key func(T) string) {
	sort.Slice(v, func(i, j int) bool { return key(v[i]) < key(v[j]) })
}
