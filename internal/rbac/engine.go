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

// index is what decisions read: every assignment reduced to a grant,
// grouped by principal, and every role compiled to matchers.
type index struct {
	roles       map[string]*compiledRole // role GUID → matchers
	byPrincipal map[string][]grant       // lower-case principal ID → grants
	byName      map[string]string        // assignment GUID → principal, for removal
	interned    map[string]string        // scope keys, shared among grants
}

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

func newIndex() *index {
	return &index{roles: map[string]*compiledRole{}, byPrincipal: map[string][]grant{},
		byName: map[string]string{}, interned: map[string]string{}}
}

func (idx *index) putRole(d RoleDefinition) {
	r := &compiledRole{}
	for _, p := range d.Permissions {
		r.perms = append(r.perms, compiledPerm{actions: compileAll(p.Actions), notActions: compileAll(p.NotActions),
			dataActions: compileAll(p.DataActions), notDataActions: compileAll(p.NotDataActions)})
	}
	idx.roles[strings.ToLower(d.Name)] = r
}

func (idx *index) intern(s string) string {
	if v, ok := idx.interned[s]; ok {
		return v
	}
	idx.interned[s] = s
	return s
}

func (idx *index) putAssignment(a Assignment, propagation time.Duration) error {
	scope, err := armid.Parse(a.Scope)
	if err != nil {
		return err
	}
	role, err := roleGUID(a.RoleDefinitionID)
	if err != nil {
		return err
	}
	name, principal := strings.ToLower(a.Name()), strings.ToLower(a.PrincipalID)
	idx.removeName(name) // a re-read replaces, never duplicates
	// Assignments nobody made through the API (bootstrap's Owner grants)
	// were never "recently granted", so they do not wait.
	if a.CreatedBy == "" {
		propagation = 0
	}
	g := grant{name: name, scope: idx.intern(scope.Key()), role: idx.intern(role), from: a.CreatedOn.Add(propagation).UnixNano()}
	idx.byPrincipal[principal] = append(idx.byPrincipal[principal], g)
	idx.byName[name] = principal
	return nil
}

func (idx *index) removeAssignment(a Assignment) { idx.removeName(strings.ToLower(a.Name())) }

func (idx *index) removeName(name string) {
	principal, ok := idx.byName[name]
	if !ok {
		return
	}
	delete(idx.byName, name)
	gs := idx.byPrincipal[principal]
	for i, g := range gs {
		if g.name == name {
			gs = append(gs[:i], gs[i+1:]...) // under the write lock: no reader holds gs
			break
		}
	}
	if len(gs) == 0 {
		delete(idx.byPrincipal, principal)
	} else {
		idx.byPrincipal[principal] = gs
	}
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
// reads only the in-memory index.
func (s *Service) Authorize(ctx context.Context, principalIDs []string, action, scope string) (Decision, error) {
	return s.decide(principalIDs, action, scope, false)
}

// AuthorizeData decides a data-plane action (DataActions/NotDataActions),
// such as Microsoft.ContainerService/managedClusters/pods/read for Azure
// RBAC on Kubernetes, in the same way.
func (s *Service) AuthorizeData(ctx context.Context, principalIDs []string, dataAction, scope string) (Decision, error) {
	return s.decide(principalIDs, dataAction, scope, true)
}

func (s *Service) decide(principalIDs []string, action, scope string, data bool) (Decision, error) {
	id, err := armid.Parse(scope)
	if err != nil {
		return Decision{}, err
	}
	if action == "" {
		return Decision{}, errors.New("rbac: empty action") // a caller's bug, not a client's
	}
	key, act, now := id.Key(), strings.ToLower(action), s.clk.Now().UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range principalIDs {
		for _, g := range s.idx.byPrincipal[strings.ToLower(p)] {
			if now < g.from || !covers(g.scope, key) {
				continue
			}
			if r := s.idx.roles[g.role]; r != nil && r.allows(act, data) {
				return Decision{Allowed: true, Assignment: g.name, Role: g.role, Scope: g.scope}, nil
			}
		}
	}
	return Decision{}, nil
}

// Denied is Azure's 403 for an action the caller may not perform. client
// is how Azure names the caller: a user's UPN; for service principals and
// managed identities the messages seen in the wild repeat the object ID.
func Denied(client, objectID, action, scope string) *Error {
	return errorf(CodeAuthorizationFailed, "The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		client, objectID, action, scope)
}
