package directory

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/aksid/aksid/internal/store"
)

// Probe narrows a listing through an index: the objects whose property
// (an index name: ByDisplayName, …) equals one of Values, or, when Values
// is empty, starts with Prefix; case-insensitively, as Entra compares.
type Probe struct {
	Property string
	Values   []string
	Prefix   string
}

// Query asks for one page of a listing. Match, when set, keeps only the
// objects it accepts (the filter's full test, Probe being only its
// indexed part). After resumes from a previous Page's Next.
type Query[T any] struct {
	Probe *Probe
	Match func(T) bool
	After string
	Limit int
	// Count asks for Total: every match counted, which reads them all.
	Count bool
}

// Page is one page of a listing. Next is empty on the last page.
type Page[T any] struct {
	Items []T
	Next  string
	Total int
}

// ErrBadCursor: a Query's After is not a cursor this package made.
var ErrBadCursor = invalid("The specified page token value has expired and can no longer be included in your request.")

// cursor is a position in a listing: a key in key order, or a (term,
// key) pair in an index. It travels to clients opaque.
type cursor struct {
	Term string `json:"t,omitempty"`
	Key  string `json:"k"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Key == "" {
		return cursor{}, ErrBadCursor
	}
	return c, nil
}

// listing says where a kind's objects of one tenant are: under a key
// prefix, or (applications) through the tenant index; keep drops what
// Graph does not list.
type listing[T any] struct {
	kind   string
	prefix func(tenantID string) string
	keep   func(T) bool
}

// batch is how many documents a page reads from the store at a time.
const batch = 200

// queryPage returns the page q asks for. It reads documents in batches
// from the cursor on, through the index when q has a Probe, and stops
// once it holds one match more than the page, which says a next page
// exists.
func queryPage[T any](ctx context.Context, st store.Store, l listing[T], tenantID string, q Query[T]) (Page[T], error) {
	var page Page[T]
	pos, err := decodeCursor(q.After)
	if err != nil {
		return page, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = int(^uint(0) >> 1)
	}
	err = st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		page = Page[T]{}
		at, last := pos, pos
		for {
			items, terms, err := l.read(tx, tenantID, q.Probe, at)
			if err != nil {
				return err
			}
			for i, it := range items {
				at = cursor{Term: terms[i], Key: it.Key}
				var v T
				if err := unmarshal(it.Value, &v); err != nil {
					return err
				}
				if (l.keep != nil && !l.keep(v)) || (q.Match != nil && !q.Match(v)) {
					continue
				}
				page.Total++
				if len(page.Items) == limit {
					if page.Next == "" {
						page.Next = last.encode()
					}
					if !q.Count {
						return nil
					}
					continue
				}
				page.Items = append(page.Items, v)
				last = at
			}
			if len(items) < batch {
				return nil
			}
		}
	})
	if !q.Count {
		page.Total = 0
	}
	return page, err
}

// read returns the next batch of documents after at, with the index term
// each was found under (empty for a key-order listing).
func (l listing[T]) read(tx store.Tx, tenantID string, lk *Probe, at cursor) ([]store.Item, []string, error) {
	var hits []store.Hit
	var err error
	switch {
	case lk != nil:
		q := store.Query{Index: lk.Property, After: store.Cursor{Term: at.Term, Key: at.Key}, Limit: batch}
		if len(lk.Values) > 0 {
			q.Terms = terms(tenantID, lk.Values...)
			if len(q.Terms) == 0 {
				return nil, nil, nil
			}
		} else {
			q.Prefix = term(tenantID, lk.Prefix)
		}
		hits, err = tx.Find(l.kind, q)
	case l.prefix == nil:
		hits, err = tx.Find(l.kind, store.Query{Index: byTenant, Terms: []string{term("", tenantID)},
			After: store.Cursor{Term: at.Term, Key: at.Key}, Limit: batch})
	default:
		items, err := tx.Page(l.kind, l.prefix(tenantID), at.Key, batch)
		return items, make([]string, len(items)), err
	}
	items := make([]store.Item, len(hits))
	ts := make([]string, len(hits))
	for i, h := range hits {
		items[i], ts[i] = store.Item{Key: h.Key, Value: h.Value}, h.Term
	}
	return items, ts, err
}

func tenantPrefix(tenantID string) string { return tenantID + "/" }

var (
	appListing   = listing[Application]{kind: kindApp, keep: func(a Application) bool { return !a.ManagedIdentity }}
	spListing    = listing[ServicePrincipal]{kind: kindSP, prefix: tenantPrefix}
	userListing  = listing[User]{kind: kindUser, prefix: tenantPrefix}
	groupListing = listing[Group]{kind: kindGroup, prefix: tenantPrefix}
)

// ApplicationPage lists applications of tenantID one page at a time.
func (d *Directory) ApplicationPage(ctx context.Context, tenantID string, q Query[Application]) (Page[Application], error) {
	return queryPage(ctx, d.st, appListing, tenantID, q)
}

// ServicePrincipalPage lists service principals of tenantID one page at a time.
func (d *Directory) ServicePrincipalPage(ctx context.Context, tenantID string, q Query[ServicePrincipal]) (Page[ServicePrincipal], error) {
	return queryPage(ctx, d.st, spListing, tenantID, q)
}

// UserPage lists users of tenantID one page at a time.
func (d *Directory) UserPage(ctx context.Context, tenantID string, q Query[User]) (Page[User], error) {
	return queryPage(ctx, d.st, userListing, tenantID, q)
}

// GroupPage lists groups of tenantID one page at a time.
func (d *Directory) GroupPage(ctx context.Context, tenantID string, q Query[Group]) (Page[Group], error) {
	return queryPage(ctx, d.st, groupListing, tenantID, q)
}
