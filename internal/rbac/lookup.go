package rbac

import (
	"context"
	"encoding/base64"
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

// AssignmentPage is one page of a listing; Next resumes it ("" at the end).
type AssignmentPage struct {
	Items []Assignment
	Next  string
}

// ErrBadSkipToken: a page token this package did not make.
var ErrBadSkipToken = errorf(CodeInvalidSkipToken, "The skip token is not valid.")

// ListAssignmentsPage is ListAssignments a page at a time, for listings
// that may hold the whole subscription: the first page has the
// assignments at the scope and above it, then up to limit of those below
// it; each next page the following limit below it, read from the scope
// index where the last one ended. Listings by principal or atScope() are
// short and come in one page.
func (s *Service) ListAssignmentsPage(ctx context.Context, scope string, f AssignmentFilter, after string, limit int) (AssignmentPage, error) {
	if f.AtScope || f.PrincipalID != "" || f.AssignedTo != "" {
		if after != "" {
			return AssignmentPage{}, ErrBadSkipToken
		}
		items, err := s.ListAssignments(ctx, scope, f)
		return AssignmentPage{Items: items}, err
	}
	at, err := armid.Parse(scope)
	if err != nil {
		return AssignmentPage{}, err
	}
	var cur store.Cursor
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		term, key, ok := strings.Cut(string(b), "\x00")
		if err != nil || !ok || !strings.HasPrefix(term, below(at).Prefix) {
			return AssignmentPage{}, ErrBadSkipToken
		}
		cur = store.Cursor{Term: term, Key: key}
	}
	var page AssignmentPage
	err = s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		page = AssignmentPage{}
		if after == "" {
			above, err := findAssignments(tx, map[string]bool{}, atOrAbove(at))
			if err != nil {
				return err
			}
			for _, e := range above {
				page.Items = append(page.Items, e.Value)
			}
			sortByName(page.Items, func(a Assignment) string { return strings.ToLower(a.ID) })
		}
		q := below(at)
		q.After, q.Limit = cur, limit+1
		hits, err := tx.Find(KindAssignment, q)
		if err != nil {
			return err
		}
		for i, h := range hits {
			if i == limit {
				last := hits[i-1]
				page.Next = base64.RawURLEncoding.EncodeToString([]byte(last.Term + "\x00" + last.Key))
				break
			}
			var a Assignment
			if err := json.Unmarshal(h.Value, &a); err != nil {
				return err
			}
			page.Items = append(page.Items, a)
		}
		return nil
	})
	return page, err
}
