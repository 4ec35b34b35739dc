package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aksid/aksid/internal/store"
)

// indexedKind's documents are {"name": …, "tags": […]}, indexed by lower-
// case name and by each tag.
const indexedKind = "indexed-doc"

// lateKind gets its index only after documents exist, as an upgraded store
// does; lateIndex defines it once per process.
const lateKind = "late-doc"

var lateIndex sync.Once

func init() {
	store.DefineIndex(store.Index{Kind: indexedKind, Name: "name", Version: 1, Terms: func(_ string, v []byte) []string {
		var d indexedDoc
		_ = json.Unmarshal(v, &d)
		return []string{strings.ToLower(d.Name)}
	}})
	store.DefineIndex(store.Index{Kind: indexedKind, Name: "tag", Version: 1, Terms: func(_ string, v []byte) []string {
		var d indexedDoc
		_ = json.Unmarshal(v, &d)
		return d.Tags
	}})
}

type indexedDoc struct {
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
}

func putDoc(t *testing.T, s store.Store, key, name string, tags ...string) {
	t.Helper()
	update(t, s, func(_ context.Context, tx store.Tx) error {
		return store.PutJSON(tx, indexedKind, key, indexedDoc{name, tags})
	})
}

func find(t *testing.T, s store.Store, kind string, q store.Query) []string {
	t.Helper()
	var out []string
	view(t, s, func(_ context.Context, tx store.Tx) error {
		hits, err := tx.Find(kind, q)
		for _, h := range hits {
			out = append(out, h.Term+"="+h.Key)
		}
		return err
	})
	return out
}

func runIndexes(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("FindExactInPrefix", func(t *testing.T) {
		s := open(t)
		putDoc(t, s, "k3", "Alpha", "x", "y")
		putDoc(t, s, "k1", "alphabet", "y")
		putDoc(t, s, "k2", "Alpha", "z")
		putDoc(t, s, "k4", "beta")
		if got, want := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"alpha"}}), []string{"alpha=k2", "alpha=k3"}; !slices.Equal(got, want) {
			t.Errorf("eq: %v, want %v", got, want)
		}
		if got, want := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"beta", "alpha"}}), []string{"alpha=k2", "alpha=k3", "beta=k4"}; !slices.Equal(got, want) {
			t.Errorf("in: %v, want %v", got, want)
		}
		if got, want := find(t, s, indexedKind, store.Query{Index: "name", Prefix: "alph"}), []string{"alpha=k2", "alpha=k3", "alphabet=k1"}; !slices.Equal(got, want) {
			t.Errorf("prefix: %v, want %v", got, want)
		}
		if got, want := find(t, s, indexedKind, store.Query{Index: "tag", Terms: []string{"y"}}), []string{"y=k1", "y=k3"}; !slices.Equal(got, want) {
			t.Errorf("tag: %v, want %v", got, want)
		}
		if got := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"gamma"}}); len(got) != 0 {
			t.Errorf("absent term found %v", got)
		}
	})
	t.Run("CursorAndLimit", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			putDoc(t, s, k, "same")
		}
		putDoc(t, s, "f", "samesies")
		var pages [][]string
		q := store.Query{Index: "name", Prefix: "same", Limit: 2}
		for range 10 {
			got := find(t, s, indexedKind, q)
			if len(got) == 0 {
				break
			}
			pages = append(pages, got)
			term, key, _ := strings.Cut(got[len(got)-1], "=")
			q.After = store.Cursor{Term: term, Key: key}
		}
		want := [][]string{{"same=a", "same=b"}, {"same=c", "same=d"}, {"same=e", "samesies=f"}}
		if !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("pages %v, want %v", pages, want)
		}
	})
	t.Run("WritesKeepTermsInStep", func(t *testing.T) {
		s := open(t)
		putDoc(t, s, "k", "old", "t1")
		putDoc(t, s, "k", "new", "t2")
		if got := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"old"}}); len(got) != 0 {
			t.Errorf("replaced document still found under its old name: %v", got)
		}
		if got := find(t, s, indexedKind, store.Query{Index: "tag", Terms: []string{"t2"}}); !slices.Equal(got, []string{"t2=k"}) {
			t.Errorf("new tag: %v", got)
		}
		update(t, s, func(_ context.Context, tx store.Tx) error { return tx.Delete(indexedKind, "k") })
		if got := find(t, s, indexedKind, store.Query{Index: "tag", Terms: []string{"t2"}}); len(got) != 0 {
			t.Errorf("deleted document still found: %v", got)
		}
		update(t, s, func(_ context.Context, tx store.Tx) error {
			return store.CreateJSON(tx, indexedKind, "c", indexedDoc{Name: "created"})
		})
		if got := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"created"}}); !slices.Equal(got, []string{"created=c"}) {
			t.Errorf("created document: %v", got)
		}
	})
	t.Run("RolledBackWritesLeaveNoTerms", func(t *testing.T) {
		s := open(t)
		putDoc(t, s, "k", "kept")
		err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
			if err := store.PutJSON(tx, indexedKind, "k", indexedDoc{Name: "outer"}); err != nil {
				return err
			}
			inner := s.Update(ctx, func(_ context.Context, tx store.Tx) error {
				if err := store.PutJSON(tx, indexedKind, "n", indexedDoc{Name: "inner"}); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(inner, errBoom) {
				t.Errorf("inner Update: %v", inner)
			}
			if got, err := tx.Find(indexedKind, store.Query{Index: "name", Terms: []string{"inner"}}); err != nil || len(got) != 0 {
				t.Errorf("rolled-back nested write still found: %v %v", got, err)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update: %v", err)
		}
		if got := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"kept", "outer"}}); !slices.Equal(got, []string{"kept=k"}) {
			t.Errorf("after rollback: %v", got)
		}
	})
	t.Run("Page", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"p/1", "p/2", "p/3", "q/1", "o/1"} {
			put(t, s, kind, k, k)
		}
		var got [][]string
		view(t, s, func(_ context.Context, tx store.Tx) error {
			for _, c := range []struct {
				after string
				limit int
			}{{"", 2}, {"p/2", 2}, {"p/3", 2}, {"", 0}, {"a", 0}} {
				items, err := tx.Page(kind, "p/", c.after, c.limit)
				if err != nil {
					return err
				}
				got = append(got, keys(items))
			}
			return nil
		})
		want := [][]string{{"p/1", "p/2"}, {"p/3"}, nil, {"p/1", "p/2", "p/3"}, {"p/1", "p/2", "p/3"}}
		if !slices.EqualFunc(got, want, func(a, b []string) bool { return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b)) }) {
			t.Errorf("pages %v, want %v", got, want)
		}
	})
	t.Run("Load", func(t *testing.T) {
		s := open(t)
		putDoc(t, s, "k1", "before")
		doc := func(key, name string) store.Document {
			v, _ := json.Marshal(indexedDoc{Name: name})
			return store.Document{Kind: indexedKind, Key: key, Value: v}
		}
		docs := []store.Document{doc("k1", "after"), doc("k2", "loaded"), {Kind: kind, Key: "plain", Value: []byte("v")}}
		if err := store.Load(t.Context(), s, docs); err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"before"}}); len(got) != 0 {
			t.Errorf("a replaced document is still found under its old term: %v", got)
		}
		if got := find(t, s, indexedKind, store.Query{Index: "name", Terms: []string{"after", "loaded"}}); !slices.Equal(got, []string{"after=k1", "loaded=k2"}) {
			t.Errorf("loaded documents: %v", got)
		}
		if got := get(t, s, kind, "plain"); got != "v" {
			t.Errorf("plain document: %q", got)
		}
	})
	t.Run("EnsureIndexesBuildsForOldDocuments", func(t *testing.T) {
		s := open(t)
		put(t, s, lateKind, "k1", "Late")
		put(t, s, lateKind, "k2", "other")
		lateIndex.Do(func() {
			store.DefineIndex(store.Index{Kind: lateKind, Name: "value", Version: 1, Terms: func(_ string, v []byte) []string {
				return []string{strings.ToLower(string(v))}
			}})
		})
		if err := store.EnsureIndexes(t.Context(), s); err != nil {
			t.Fatalf("EnsureIndexes: %v", err)
		}
		if got := find(t, s, lateKind, store.Query{Index: "value", Terms: []string{"late"}}); !slices.Equal(got, []string{"late=k1"}) {
			t.Errorf("after EnsureIndexes: %v", got)
		}
	})
}
