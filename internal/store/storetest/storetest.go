// Package storetest is a conformance suite that every store.Store backend runs in its tests.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// Run checks that the stores returned by open honour the store.Store
// contract. open must return a new, empty store for every call and arrange
// its cleanup; the suite may Close it earlier.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CRUD", func(t *testing.T) { runCRUD(t, open) })
	t.Run("NestedCAS", func(t *testing.T) { runNested(t, open) })
	t.Run("Contention", func(t *testing.T) { runContention(t, open) })
	t.Run("TypedList", func(t *testing.T) { runTyped(t, open) })
	t.Run("Indexes", func(t *testing.T) { runIndexes(t, open) })
}

const kind = "doc"

var errBoom = errors.New("storetest: boom")

func update(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func put(t *testing.T, s store.Store, k, key, value string) {
	t.Helper()
	update(t, s, func(_ context.Context, tx store.Tx) error { return tx.Put(k, key, []byte(value)) })
}

// get returns the committed value of k/key, or "<missing>".
func get(t *testing.T, s store.Store, k, key string) string {
	t.Helper()
	var got string
	view(t, s, func(_ context.Context, tx store.Tx) error {
		got = txGet(t, tx, k, key)
		return nil
	})
	return got
}

func txGet(t *testing.T, tx store.Tx, k, key string) string {
	t.Helper()
	b, err := tx.Get(k, key)
	if errors.Is(err, store.ErrNotFound) {
		return "<missing>"
	}
	if err != nil {
		t.Fatalf("Get %s/%s: %v", k, key, err)
	}
	return string(b)
}

func keys(items []store.Item) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

// within fails the test when fn does not return in d, which catches
// deadlocks (a goroutine stuck forever is reported instead of hanging).
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not finish within %v (deadlock?)", d)
	}
}

func runCRUD(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		view(t, s, func(_ context.Context, tx store.Tx) error {
			if _, err := tx.Get(kind, "nope"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get missing: err = %v, want ErrNotFound", err)
			}
			return nil
		})
	})
	t.Run("CreateTwice", func(t *testing.T) {
		s := open(t)
		update(t, s, func(_ context.Context, tx store.Tx) error { return tx.Create(kind, "k", []byte("v1")) })
		if got := get(t, s, kind, "k"); got != "v1" {
			t.Errorf("after Create: %q, want v1", got)
		}
		err := s.Update(t.Context(), func(_ context.Context, tx store.Tx) error { return tx.Create(kind, "k", []byte("v2")) })
		if !errors.Is(err, store.ErrExists) {
			t.Errorf("second Create: err = %v, want ErrExists", err)
		}
		// A failed Create must leave the transaction usable.
		update(t, s, func(_ context.Context, tx store.Tx) error {
			if err := tx.Create(kind, "k", []byte("v3")); !errors.Is(err, store.ErrExists) {
				t.Errorf("Create in tx: err = %v, want ErrExists", err)
			}
			return tx.Create(kind, "k2", []byte("w"))
		})
		if got := get(t, s, kind, "k") + "," + get(t, s, kind, "k2"); got != "v1,w" {
			t.Errorf("after ErrExists handled in tx: %q, want v1,w", got)
		}
	})
	t.Run("PutReplaces", func(t *testing.T) {
		s := open(t)
		put(t, s, kind, "k", "first")
		put(t, s, kind, "k", "second")
		if got := get(t, s, kind, "k"); got != "second" {
			t.Errorf("after two Puts: %q, want second", got)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		put(t, s, kind, "k", "v")
		update(t, s, func(_ context.Context, tx store.Tx) error { return tx.Delete(kind, "k") })
		if got := get(t, s, kind, "k"); got != "<missing>" {
			t.Errorf("after Delete: %q", got)
		}
		err := s.Update(t.Context(), func(_ context.Context, tx store.Tx) error { return tx.Delete(kind, "k") })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Delete missing: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("ListPrefixOrdered", func(t *testing.T) {
		s := open(t)
		// "_" and "%" would be wildcards to a LIKE-based implementation.
		for _, k := range []string{"b/1", "a/2", "a_x", "a/10", "ab", "a/1", "a", "a%", "a/\xff"} {
			put(t, s, kind, k, "v:"+k)
		}
		put(t, s, "other", "a/0", "x")
		view(t, s, func(_ context.Context, tx store.Tx) error {
			for _, c := range []struct {
				prefix string
				want   []string
			}{
				{"a/", []string{"a/1", "a/10", "a/2", "a/\xff"}},
				{"a_", []string{"a_x"}},
				{"a%", []string{"a%"}},
				{"", []string{"a", "a%", "a/1", "a/10", "a/2", "a/\xff", "a_x", "ab", "b/1"}},
				{"c", nil},
			} {
				items, err := tx.List(kind, c.prefix)
				if err != nil {
					t.Fatalf("List %q: %v", c.prefix, err)
				}
				if got := keys(items); !slices.Equal(got, c.want) {
					t.Errorf("List %q = %q, want %q", c.prefix, got, c.want)
				}
				for _, it := range items {
					if string(it.Value) != "v:"+it.Key {
						t.Errorf("List %q: %q has value %q", c.prefix, it.Key, it.Value)
					}
				}
			}
			if items, err := tx.List("empty-kind", ""); err != nil || len(items) != 0 {
				t.Errorf("List of empty kind = %v, %v", keys(items), err)
			}
			return nil
		})
	})
	t.Run("KindsIsolated", func(t *testing.T) {
		s := open(t)
		put(t, s, "k1", "same", "one")
		put(t, s, "k2", "same", "two")
		update(t, s, func(_ context.Context, tx store.Tx) error { return tx.Delete("k1", "same") })
		if got := get(t, s, "k1", "same") + "," + get(t, s, "k2", "same"); got != "<missing>,two" {
			t.Errorf("kinds share documents: %q", got)
		}
	})
	t.Run("BinarySafe", func(t *testing.T) {
		s := open(t)
		all := make([]byte, 512)
		for i := range all {
			all[i] = byte(i)
		}
		vals := map[string][]byte{"all": all, "empty": {}, "nil": nil, "nul": {0, 0, 'x', 0}, "bad-utf8": {0xff, 0xfe, 0xc3}}
		update(t, s, func(_ context.Context, tx store.Tx) error {
			for k, v := range vals {
				if err := tx.Create(kind, k, v); err != nil {
					return fmt.Errorf("create %s: %w", k, err)
				}
			}
			return nil
		})
		view(t, s, func(_ context.Context, tx store.Tx) error {
			for k, v := range vals {
				if got, err := tx.Get(kind, k); err != nil || !bytes.Equal(got, v) {
					t.Errorf("Get %s = %x, %v; want %x", k, got, err, v)
				}
			}
			return nil
		})
	})
	t.Run("Rollback", func(t *testing.T) {
		s := open(t)
		put(t, s, kind, "kept", "old")
		put(t, s, kind, "doomed", "here")
		err := s.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
			for _, step := range []error{
				tx.Create(kind, "new", []byte("x")),
				tx.Put(kind, "kept", []byte("new")),
				tx.Delete(kind, "doomed"),
			} {
				if step != nil {
					return step
				}
			}
			if got := txGet(t, tx, kind, "kept"); got != "new" {
				t.Errorf("own write not visible in tx: %q", got)
			}
			return fmt.Errorf("wrapped: %w", errBoom)
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want fn's error", err)
		}
		got := get(t, s, kind, "new") + "," + get(t, s, kind, "kept") + "," + get(t, s, kind, "doomed")
		if got != "<missing>,old,here" {
			t.Errorf("failed Update left %q, want <missing>,old,here", got)
		}
	})
	t.Run("ViewIsReadOnly", func(t *testing.T) {
		s := open(t)
		err := s.View(t.Context(), func(_ context.Context, tx store.Tx) error { return tx.Put(kind, "k", []byte("v")) })
		if err == nil {
			t.Error("Put inside View succeeded")
		}
		if got := get(t, s, kind, "k"); got != "<missing>" {
			t.Errorf("View wrote %q", got)
		}
	})
	t.Run("Closed", func(t *testing.T) {
		s := open(t)
		put(t, s, kind, "k", "v")
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		nop := func(context.Context, store.Tx) error { return nil }
		if err := s.View(t.Context(), nop); !errors.Is(err, store.ErrClosed) {
			t.Errorf("View after Close: %v, want ErrClosed", err)
		}
		if err := s.Update(t.Context(), nop); !errors.Is(err, store.ErrClosed) {
			t.Errorf("Update after Close: %v, want ErrClosed", err)
		}
	})
}

func runNested(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CompareAndSwap", func(t *testing.T) {
		s := open(t)
		type lease struct{ Owner string }
		// claim takes the lease unless someone else holds it: the decision
		// depends on what the transaction read.
		claim := func(owner string) error {
			return s.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
				var l lease
				switch err := store.GetJSON(tx, kind, "lease", &l); {
				case errors.Is(err, store.ErrNotFound):
				case err != nil:
					return err
				case l.Owner != owner:
					return errBoom
				}
				return store.PutJSON(tx, kind, "lease", lease{owner})
			})
		}
		if err := claim("alice"); err != nil {
			t.Fatalf("first claim: %v", err)
		}
		if err := claim("alice"); err != nil {
			t.Fatalf("renewal: %v", err)
		}
		if err := claim("bob"); !errors.Is(err, errBoom) {
			t.Fatalf("competing claim: %v, want refusal", err)
		}
		if got := get(t, s, kind, "lease"); got != `{"Owner":"alice"}` {
			t.Errorf("lease = %s", got)
		}
	})
	t.Run("InnerCommitsWithOuter", func(t *testing.T) {
		s := open(t)
		update(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(kind, "a", []byte("outer")); err != nil {
				return err
			}
			if err := s.Update(ctx, func(_ context.Context, in store.Tx) error {
				return in.Put(kind, "b", []byte("inner"))
			}); err != nil {
				return err
			}
			if got := txGet(t, tx, kind, "b"); got != "inner" {
				t.Errorf("outer tx does not see inner write: %q", got)
			}
			return tx.Put(kind, "c", []byte("outer"))
		})
		if got := get(t, s, kind, "a") + get(t, s, kind, "b") + get(t, s, kind, "c"); got != "outerinnerouter" {
			t.Errorf("committed %q", got)
		}
	})
	t.Run("InnerFailureUndoesOnlyInner", func(t *testing.T) {
		s := open(t)
		put(t, s, kind, "a", "committed")
		update(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(kind, "a", []byte("outer")); err != nil {
				return err
			}
			err := s.Update(ctx, func(ctx context.Context, in store.Tx) error {
				for _, err := range []error{in.Put(kind, "a", []byte("inner")), in.Put(kind, "b", []byte("inner"))} {
					if err != nil {
						return err
					}
				}
				// A deeper level that succeeded is undone with its parent.
				if err := s.Update(ctx, func(_ context.Context, in2 store.Tx) error {
					return in2.Put(kind, "deep", []byte("x"))
				}); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Errorf("nested Update returned %v, want the inner error", err)
			}
			if got := txGet(t, tx, kind, "a") + "," + txGet(t, tx, kind, "b"); got != "outer,<missing>" {
				t.Errorf("after inner failure the tx holds %q, want outer,<missing>", got)
			}
			// A later sibling step still works.
			if err := s.Update(ctx, func(_ context.Context, in store.Tx) error {
				return in.Put(kind, "c", []byte("sibling"))
			}); err != nil {
				return err
			}
			return nil
		})
		got := get(t, s, kind, "a") + "," + get(t, s, kind, "b") + "," + get(t, s, kind, "deep") + "," + get(t, s, kind, "c")
		if got != "outer,<missing>,<missing>,sibling" {
			t.Errorf("committed %q, want outer,<missing>,<missing>,sibling", got)
		}
	})
	t.Run("InnerFailurePropagated", func(t *testing.T) {
		s := open(t)
		err := s.Update(t.Context(), func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(kind, "a", []byte("outer")); err != nil {
				return err
			}
			if err := s.Update(ctx, func(_ context.Context, in store.Tx) error {
				return in.Put(kind, "b", []byte("inner ok"))
			}); err != nil {
				return err
			}
			return s.Update(ctx, func(_ context.Context, in store.Tx) error {
				if err := in.Put(kind, "c", []byte("inner bad")); err != nil {
					return err
				}
				return errBoom
			})
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want the inner error", err)
		}
		if got := get(t, s, kind, "a") + get(t, s, kind, "b") + get(t, s, kind, "c"); got != "<missing><missing><missing>" {
			t.Errorf("outer failure kept %q", got)
		}
	})
	t.Run("NestedView", func(t *testing.T) {
		s := open(t)
		update(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.Put(kind, "a", []byte("uncommitted")); err != nil {
				return err
			}
			return s.View(ctx, func(ctx context.Context, vtx store.Tx) error {
				if got := txGet(t, vtx, kind, "a"); got != "uncommitted" {
					t.Errorf("nested View sees %q, want the outer tx's write", got)
				}
				if vtx.Put(kind, "x", nil) == nil {
					t.Error("Put through a nested View's tx succeeded")
				}
				// View inside View reuses the transaction too.
				return s.View(ctx, func(_ context.Context, vtx2 store.Tx) error {
					if got := txGet(t, vtx2, kind, "a"); got != "uncommitted" {
						t.Errorf("View in View sees %q", got)
					}
					return nil
				})
			})
		})
	})
	t.Run("UpdateInsideViewFails", func(t *testing.T) {
		s := open(t)
		within(t, 5*time.Second, func() {
			view(t, s, func(ctx context.Context, _ store.Tx) error {
				err := s.Update(ctx, func(_ context.Context, tx store.Tx) error { return tx.Put(kind, "a", nil) })
				if err == nil {
					t.Error("Update inside View succeeded")
				}
				return nil
			})
		})
		if got := get(t, s, kind, "a"); got != "<missing>" {
			t.Errorf("Update inside View wrote %q", got)
		}
	})
}
