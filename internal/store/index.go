package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Index derives lookup terms from the documents of one kind. Every backend
// keeps an index's terms in step with each Create, Put and Delete of that
// kind, in the same transaction, so Find reads only the documents that
// match instead of the whole kind.
type Index struct {
	Kind string
	Name string
	// Version changes when Terms does: a store opened with an index whose
	// version it has not built yet rebuilds that index from the documents.
	Version int
	// Terms returns the terms under which the document kind/key is found.
	// It must be deterministic; empty terms are ignored.
	Terms func(key string, value []byte) []string
}

var registry struct {
	mu     sync.RWMutex
	byKind map[string][]Index
}

// DefineIndex registers ix for every store opened afterwards. Packages
// call it from init, so the indexes are known before any store opens. A
// second definition of the same kind and name panics.
func DefineIndex(ix Index) {
	if ix.Kind == "" || ix.Name == "" || ix.Terms == nil {
		panic("store: DefineIndex needs a kind, a name and Terms")
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.byKind == nil {
		registry.byKind = map[string][]Index{}
	}
	for _, have := range registry.byKind[ix.Kind] {
		if have.Name == ix.Name {
			panic(fmt.Sprintf("store: index %s/%s defined twice", ix.Kind, ix.Name))
		}
	}
	registry.byKind[ix.Kind] = append(registry.byKind[ix.Kind], ix)
}

// IndexesOf returns the indexes defined on kind.
func IndexesOf(kind string) []Index {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	return registry.byKind[kind]
}

// Indexes returns every defined index, ordered by kind and name.
func Indexes() []Index {
	registry.mu.RLock()
	defer registry.mu.RUnlock()
	var out []Index
	for _, ixs := range registry.byKind {
		out = append(out, ixs...)
	}
	slices.SortFunc(out, func(a, b Index) int {
		if a.Kind != b.Kind {
			return cmpString(a.Kind, b.Kind)
		}
		return cmpString(a.Name, b.Name)
	})
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Term is one index entry of a document.
type Term struct {
	Index string
	Term  string
}

// TermsOf returns the index entries of the document kind/key, without
// duplicates; backends write them beside the document.
func TermsOf(kind, key string, value []byte) []Term {
	ixs := IndexesOf(kind)
	if len(ixs) == 0 {
		return nil
	}
	var out []Term
	seen := map[Term]bool{}
	for _, ix := range ixs {
		for _, t := range ix.Terms(key, value) {
			e := Term{ix.Name, t}
			if t == "" || seen[e] {
				continue
			}
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// Query selects documents of one kind through one of its indexes.
type Query struct {
	Index string
	// Terms selects the documents with any of these terms; when it is
	// empty, Prefix selects those with a term starting with Prefix.
	Terms  []string
	Prefix string
	// After resumes a listing after the hit it names (zero: from the
	// start); hits come ordered by term, then key.
	After Cursor
	// Limit caps the hits returned; zero or less returns them all.
	Limit int
}

// Cursor names a position in an index: a term and a document key.
type Cursor struct {
	Term string
	Key  string
}

// Hit is a document Find returned, with the term it was found under.
type Hit struct {
	Term  string
	Key   string
	Value []byte
}

// PrefixEnd returns the smallest string greater than every string that
// starts with prefix, for a range scan; "" when there is none.
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// kindIndexBuilt records, per kind/name, the Version of each index a store
// has built, so EnsureIndexes rebuilds only what changed.
const kindIndexBuilt = "store_index"

// EnsureIndexes builds every defined index the store has not built at its
// current version, by writing each document of the kind again (a write
// recomputes all of a document's terms). Backends call it when they open,
// so a store written before an index existed is searchable at once.
func EnsureIndexes(ctx context.Context, st Store) error {
	ixs := Indexes()
	if len(ixs) == 0 {
		return nil
	}
	stale := func(tx Tx) (map[string]bool, error) {
		kinds := map[string]bool{}
		for _, ix := range ixs {
			var built int
			err := GetJSON(tx, kindIndexBuilt, ix.Kind+"/"+ix.Name, &built)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			if err != nil || built != ix.Version {
				kinds[ix.Kind] = true
			}
		}
		return kinds, nil
	}
	var todo map[string]bool
	if err := st.View(ctx, func(ctx context.Context, tx Tx) (err error) {
		todo, err = stale(tx)
		return err
	}); err != nil || len(todo) == 0 {
		return err
	}
	return st.Update(ctx, func(ctx context.Context, tx Tx) error {
		kinds, err := stale(tx) // another replica may have built them meanwhile
		if err != nil {
			return err
		}
		for _, ix := range ixs {
			if !kinds[ix.Kind] {
				continue
			}
			if err := PutJSON(tx, kindIndexBuilt, ix.Kind+"/"+ix.Name, ix.Version); err != nil {
				return err
			}
		}
		for kind := range kinds {
			items, err := tx.List(kind, "")
			if err != nil {
				return err
			}
			for _, it := range items {
				if err := tx.Put(kind, it.Key, it.Value); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
