package rbac

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/armid"
)

// Decision is the answer to Authorize. When Allowed, it names the
// assignment that granted the action (for logs and audit).
type Decision struct {
	Allowed    bool
	Assignment string // the granting assignment's GUID
	Role       string // its role definition's GUID
	Scope      string // its scope, case-folded
}

// grant is one assignment reduced to what a decision needs.
type grant struct {
	name  string // assignment GUID
	scope string // case-folded canonical scope
	role  string // role definition GUID
	from  int64  // UnixNano from which the grant counts (createdOn + propagation)
}

type compiledRole struct {
	perms []compiledPerm
}

type compiledPerm struct {
	actions, notActions, dataActions, notDataActions []matcher
}

func compileRole(d RoleDefinition) *compiledRole {
	r := &compiledRole{}
	for _, p := range d.Permissions {
		r.perms = append(r.perms, compiledPerm{actions: compileAll(p.Actions), notActions: compileAll(p.NotActions),
			dataActions: compileAll(p.DataActions), notDataActions: compileAll(p.NotDataActions)})
	}
	return r
}

// grantOf reduces a stored assignment. Assignments nobody made through
// the API (bootstrap's Owner grants) were never "recently granted", so
// they do not wait for propagation.
func grantOf(a Assignment, propagation time.Duration) (grant, error) {
	scope, err := armid.Parse(a.Scope)
	if err != nil {
		return grant{}, err
	}
	role, err := roleGUID(a.RoleDefinitionID)
	if err != nil {
		return grant{}, err
	}
	if a.CreatedBy == "" {
		propagation = 0
	}
	return grant{name: strings.ToLower(a.Name()), scope: scope.Key(), role: role, from: a.CreatedOn.Add(propagation).UnixNano()}, nil
}

// covers reports whether an assignment at scope key a applies at key s.
func covers(a, s string) bool {
	return a == "/" || (strings.HasPrefix(s, a) && (len(s) == len(a) || s[len(a)] == '/'))
}

// allows reports whether some permission block grants action and does not
// carve it out again. NotActions subtract within a role only: another
// role may still grant the action.
func (r *compiledRole) allows(action string, data bool) bool {
	for _, p := range r.perms {
		yes, no := p.actions, p.notActions
		if data {
			yes, no = p.dataActions, p.notDataActions
		}
		if anyMatch(yes, action) && !anyMatch(no, action) {
			return true
		}
	}
	return false
}

// Authorize decides a control-plane action (Actions/NotActions) at scope
// for a caller known by its object ID and its transitive group IDs. It
// allows when an assignment at the scope or any ancestor, to any of
// principalIDs, has a role granting the action and has propagated. It
// reads a principal's assignments from the store once, then from memory
// until they change.
func (s *Service) Authorize(ctx context.Context, principalIDs []string, action, scope string) (Decision, error) {
	return s.decide(ctx, principalIDs, action, scope, false)
}

// AuthorizeData decides a data-plane action (DataActions/NotDataActions),
// such as Microsoft.ContainerService/managedClusters/pods/read for Azure
// RBAC on Kubernetes, in the same way.
func (s *Service) AuthorizeData(ctx context.Context, principalIDs []string, dataAction, scope string) (Decision, error) {
	return s.decide(ctx, principalIDs, dataAction, scope, true)
}

func (s *Service) decide(ctx context.Context, principalIDs []string, action, scope string, data bool) (Decision, error) {
	id, err := armid.Parse(scope)
	if err != nil {
		return Decision{}, err
	}
	if action == "" {
		return Decision{}, errors.New("rbac: empty action") // a caller's bug, not a client's
	}
	if s.shared {
		if err := s.follow(ctx); err != nil {
			return Decision{}, err
		}
	}
	key, act, now := id.Key(), strings.ToLower(action), s.clk.Now().UnixNano()
	s.mu.RLock()
	d, complete := s.decideCached(principalIDs, key, act, now, data)
	s.mu.RUnlock()
	if d.Allowed || complete {
		return d, nil
	}
	// Some principal's grants are not cached: read them, then decide.
	keys := make([]string, len(principalIDs))
	for i, p := range principalIDs {
		keys[i] = strings.ToLower(p)
	}
	grants, err := s.grantsOf(ctx, keys)
	if err != nil {
		return Decision{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range keys {
		if d, ok := s.firstGrant(grants[p], key, act, now, data); ok {
			return d, nil
		}
	}
	return Decision{}, nil
}

// decideCached decides from the cache alone; complete is false when a
// principal's grants are not cached and none cached allowed. Caller holds
// s.mu for reading.
func (s *Service) decideCached(principalIDs []string, key, act string, now int64, data bool) (d Decision, complete bool) {
	complete = true
	for _, p := range principalIDs {
		gs, ok := s.cache[strings.ToLower(p)]
		if !ok {
			complete = false
			continue
		}
		if d, ok := s.firstGrant(gs, key, act, now, data); ok {
			return d, true
		}
	}
	return Decision{}, complete
}

// firstGrant finds a grant among gs that allows act at scope key now.
func (s *Service) firstGrant(gs []grant, key, act string, now int64, data bool) (Decision, bool) {
	for _, g := range gs {
		if now < g.from || !covers(g.scope, key) {
			continue
		}
		if r := s.roles[g.role]; r != nil && r.allows(act, data) {
			return Decision{Allowed: true, Assignment: g.name, Role: g.role, Scope: g.scope}, true
		}
	}
	return Decision{}, false
}

// Denied is Azure's 403 for an action the caller may not perform. client
// is how Azure names the caller: a user's UPN; for service principals and
// managed identities the messages seen in the wild repeat the object ID.
func Denied(client, objectID, action, scope string) *Error {
	return errorf(CodeAuthorizationFailed, "The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		client, objectID, action, scope)
}
