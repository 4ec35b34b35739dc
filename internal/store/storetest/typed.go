package storetest

import (
	"context"
	"testing"

	"github.com/aksid/aksid/internal/store"
)

type typedDoc struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// runTyped checks the typed list helpers against the backend: documents
// decoded in key order, only under the prefix, and a broken document
// reported rather than skipped.
func runTyped(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	update(t, s, func(_ context.Context, tx store.Tx) error {
		for i, k := range []string{"t1/b", "t1/a", "t2/c"} {
			if err := store.PutJSON(tx, kind, k, typedDoc{Name: k, N: i}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(_ context.Context, tx store.Tx) error {
		docs, err := store.ListJSON[typedDoc](tx, kind, "t1/")
		if err != nil {
			t.Fatalf("ListJSON: %v", err)
		}
		if len(docs) != 2 || docs[0] != (typedDoc{"t1/a", 1}) || docs[1] != (typedDoc{"t1/b", 0}) {
			t.Errorf("ListJSON = %+v, want t1/a then t1/b", docs)
		}
		entries, err := store.ListEntries[typedDoc](tx, kind, "t2/")
		if err != nil {
			t.Fatalf("ListEntries: %v", err)
		}
		if len(entries) != 1 || entries[0].Key != "t2/c" || entries[0].Value.N != 2 {
			t.Errorf("ListEntries = %+v", entries)
		}
		none, err := store.ListJSON[typedDoc](tx, kind, "t3/")
		if err != nil || len(none) != 0 {
			t.Errorf("empty prefix: %v, %v", none, err)
		}
		return nil
	})
	put(t, s, kind, "t1/broken", "{not json")
	view(t, s, func(_ context.Context, tx store.Tx) error {
		if _, err := store.ListJSON[typedDoc](tx, kind, "t1/"); err == nil {
			t.Error("ListJSON decoded a broken document without error")
		}
		return nil
	})
}
