package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aksid/aksid/internal/store"
)

// RunShared checks two handles on one underlying database, as two
// processes would hold them: each sees the other's commits and concurrent
// writers through both make progress without losing updates. open must
// return two handles on a new, empty database and arrange their cleanup.
func RunShared(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	t.Run("SeeEachOther", func(t *testing.T) {
		a, b := open(t)
		put(t, a, kind, "from-a", "1")
		if got := get(t, b, kind, "from-a"); got != "1" {
			t.Errorf("b reads %q", got)
		}
		put(t, b, kind, "from-b", "2")
		update(t, b, func(_ context.Context, tx store.Tx) error { return tx.Delete(kind, "from-a") })
		if got := get(t, a, kind, "from-b") + "," + get(t, a, kind, "from-a"); got != "2,<missing>" {
			t.Errorf("a reads %q", got)
		}
	})
	t.Run("Counter", func(t *testing.T) {
		a, b := open(t)
		counterRace(t, []store.Store{a, b}, 4, 25)
	})
	t.Run("CreateRace", func(t *testing.T) {
		a, b := open(t)
		createRace(t, []store.Store{a, b}, 5, 4)
	})
}

func runContention(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Counter", func(t *testing.T) {
		counterRace(t, []store.Store{open(t)}, 8, 50)
	})
	t.Run("CreateRace", func(t *testing.T) {
		createRace(t, []store.Store{open(t)}, 10, 8)
	})
	t.Run("NoTornReads", func(t *testing.T) { noTornReads(t, open(t)) })
}

// parallel runs fn(0..n-1) in goroutines released together and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

type counter struct{ N int }

// counterRace has workers goroutines, spread over stores, each increment
// one counter each times by read-modify-write; no increment may be lost.
func counterRace(t *testing.T, stores []store.Store, workers, each int) {
	parallel(workers, func(w int) {
		s := stores[w%len(stores)]
		for range each {
			if err := incrementCounter(t.Context(), s); err != nil {
				t.Errorf("increment: %v", err)
				return
			}
		}
	})
	for i, s := range stores {
		var c counter
		view(t, s, func(_ context.Context, tx store.Tx) error { return store.GetJSON(tx, kind, "counter", &c) })
		if c.N != workers*each {
			t.Errorf("store %d: counter = %d, want %d", i, c.N, workers*each)
		}
	}
}

// incrementCounter adds one to the counter document by read-modify-write.
func incrementCounter(ctx context.Context, s store.Store) error {
	return s.Update(ctx, func(_ context.Context, tx store.Tx) error {
		var c counter
		if err := store.GetJSON(tx, kind, "counter", &c); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		c.N++
		return store.PutJSON(tx, kind, "counter", c)
	})
}

// createRace has workers goroutines Create the same key, rounds times:
// exactly one wins each round and the others get ErrExists.
func createRace(t *testing.T, stores []store.Store, rounds, workers int) {
	for r := range rounds {
		key := fmt.Sprintf("race/%d", r)
		var wins atomic.Int32
		var winner atomic.Value
		parallel(workers, func(w int) {
			val := fmt.Sprintf("worker %d", w)
			err := stores[w%len(stores)].Update(t.Context(), func(_ context.Context, tx store.Tx) error {
				return tx.Create(kind, key, []byte(val))
			})
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(val)
			case !errors.Is(err, store.ErrExists):
				t.Errorf("Create %s: %v, want nil or ErrExists", key, err)
			}
		})
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d Creates succeeded, want 1", r, n)
		}
		for i, s := range stores {
			if got := get(t, s, kind, key); got != winner.Load() {
				t.Errorf("store %d: %s = %q, want the winner's %q", i, key, got, winner.Load())
			}
		}
	}
}

// noTornReads has one writer move two documents together (a == b after
// every commit) while readers check they never observe them apart.
func noTornReads(t *testing.T, s store.Store) {
	const readers, writes = 4, 100
	var done atomic.Bool
	var reads atomic.Int64
	parallel(readers+1, func(i int) {
		if i == 0 {
			defer done.Store(true)
			for n := range writes {
				v := []byte(fmt.Sprint(n))
				err := s.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
					if err := tx.Put(kind, "pair/a", v); err != nil {
						return err
					}
					return tx.Put(kind, "pair/b", v)
				})
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
			return
		}
		// Check at least once after the writer finished, so every reader
		// observes something even if it was scheduled late.
		for last := false; !last; {
			last = done.Load()
			err := s.View(t.Context(), func(_ context.Context, tx store.Tx) error {
				a, errA := tx.Get(kind, "pair/a")
				items, errL := tx.List(kind, "pair/")
				b, errB := tx.Get(kind, "pair/b")
				if errors.Is(errA, store.ErrNotFound) && errors.Is(errB, store.ErrNotFound) && errL == nil && len(items) == 0 {
					return nil // before the first write
				}
				if err := errors.Join(errA, errL, errB); err != nil {
					return err
				}
				if string(a) != string(b) || len(items) != 2 ||
					string(items[0].Value) != string(a) || string(items[1].Value) != string(a) {
					t.Errorf("torn read: a=%s b=%s list=%v", a, b, items)
				}
				reads.Add(1)
				return nil
			})
			if err != nil {
				t.Errorf("reader: %v", err)
				return
			}
		}
	})
	if reads.Load() == 0 {
		t.Error("readers observed nothing")
	}
}
