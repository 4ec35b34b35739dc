// Package rbac keeps Azure role definitions and role assignments and decides whether a caller may perform an action at a scope.
package rbac

import (
	"context"
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
	CodeInvalidSkipToken                 = "InvalidSkipToken"
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
// authorization questions, reading each principal's assignments through
// the store's index and caching them (cache.go).
//
// Writes through the Service count at once. Writes by another process on
// the same store (another replica, bootstrap) count at the next decision
// with FollowOtherWriters, else after Refresh.
type Service struct {
	st       store.Store
	clk      clock.Clock
	opts     Options
	builtins []RoleDefinition // sorted by roleName
	builtin  map[string]int   // lower-case GUID → index in builtins
	shared   bool             // FollowOtherWriters

	mu         sync.RWMutex
	roles      map[string]*compiledRole // role GUID → matchers: built-in and custom
	cache      map[string][]grant       // lower-case principal ID → its grants
	epoch      uint64                   // bumped by every eviction (see grantsOf)
	generation string                   // the store's generation roles and cache were read at
	loaded     bool
}

// New returns a Service over st whose decisions are made at clk's time.
func New(ctx context.Context, st store.Store, clk clock.Clock, opts Options) (*Service, error) {
	defs, err := loadBuiltins()
	if err != nil {
		return nil, err
	}
	s := &Service{st: st, clk: clk, opts: opts, builtins: defs, builtin: make(map[string]int, len(defs))}
	for i, d := range defs {
		s.builtin[d.Name] = i
	}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// FollowOtherWriters makes every decision first read the store's
// generation (one small read), so that an assignment made or removed by
// another replica counts at once, not after the next Refresh.
func (s *Service) FollowOtherWriters() { s.shared = true }

// Refresh catches up with writes by other processes: when the store's
// generation moved, the cache is emptied and the custom roles re-read.
// It reads one row otherwise.
func (s *Service) Refresh(ctx context.Context) error { return s.follow(ctx) }

func newGeneration() string { return uuid.NewString() }

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
