package rbac

import (
	"encoding/json"
	"strings"

	"github.com/aksid/aksid/internal/armid"
	"github.com/aksid/aksid/internal/store"
)

// Assignments are indexed by principal and by scope, so that listing them
// (by principal, at a scope and its ancestors, below a scope) reads only
// those listed, however many the store holds.
const (
	byPrincipal = "principal" // lower-case principal ID
	byScope     = "scope"     // the scope's Key (case-folded canonical form)
)

func init() {
	assignmentTerms := func(pick func(Assignment) string) func(string, []byte) []string {
		return func(_ string, b []byte) []string {
			var a Assignment
			if json.Unmarshal(b, &a) != nil {
				return nil
			}
			return []string{pick(a)}
		}
	}
	store.DefineIndex(store.Index{Kind: KindAssignment, Name: byPrincipal, Version: 1,
		Terms: assignmentTerms(func(a Assignment) string { return strings.ToLower(a.PrincipalID) })})
	store.DefineIndex(store.Index{Kind: KindAssignment, Name: byScope, Version: 1,
		Terms: assignmentTerms(func(a Assignment) string {
			id, err := armid.Parse(a.Scope)
			if err != nil {
				return ""
			}
			return id.Key()
		})})
}

// findAssignments reads the assignments q selects, keyed by store key;
// several queries may name one assignment twice, and seen drops repeats.
func findAssignments(tx store.Tx, seen map[string]bool, qs ...store.Query) ([]store.Entry[Assignment], error) {
	var out []store.Entry[Assignment]
	for _, q := range qs {
		hits, err := tx.Find(KindAssignment, q)
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			if seen[h.Key] {
				continue
			}
			seen[h.Key] = true
			var a Assignment
			if err := json.Unmarshal(h.Value, &a); err != nil {
				return nil, err
			}
			out = append(out, store.Entry[Assignment]{Key: h.Key, Value: a})
		}
	}
	return out, nil
}

// atOrAbove selects the assignments at scope and at each of its ancestors.
func atOrAbove(at armid.ID) store.Query {
	q := store.Query{Index: byScope}
	for _, a := range at.Ancestors() {
		q.Terms = append(q.Terms, a.Key())
	}
	return q
}

// below selects the assignments strictly beneath scope.
func below(at armid.ID) store.Query {
	prefix := at.Key()
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return store.Query{Index: byScope, Prefix: prefix}
}
