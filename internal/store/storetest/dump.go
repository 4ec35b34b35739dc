package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// RunDump checks a backend's store.Dumper: every document once, in
// (kind, key) order compared bytewise, bytes intact, fn's error returned,
// and one snapshot throughout while a writer commits. open must return a
// new, empty store implementing store.Dumper and arrange its cleanup.
func RunDump(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Empty", func(t *testing.T) {
		// A new store holds at most its own bookkeeping.
		for _, d := range dumpAll(t, open(t)) {
			if !store.OwnKind(d.kind) {
				t.Errorf("Dump of a new store gives %v, not the store's own (store.OwnKind)", d)
			}
		}
	})
	t.Run("EveryDocumentInOrder", func(t *testing.T) { dumpEvery(t, open(t)) })
	t.Run("StopsAtError", func(t *testing.T) {
		s := open(t)
		for i := range 5 {
			put(t, s, kind, fmt.Sprint(i), "v")
		}
		calls := 0
		err := store.Dump(t.Context(), s, func(string, string, []byte) error {
			calls++
			if calls == 2 {
				return errBoom
			}
			return nil
		})
		if !errors.Is(err, errBoom) || calls != 2 {
			t.Errorf("Dump = %v after %d calls, want errBoom after 2", err, calls)
		}
		// The store is still usable after a dump stopped early.
		put(t, s, kind, "after", "v")
	})
	t.Run("Snapshot", func(t *testing.T) { dumpSnapshot(t, open(t)) })
}

type dumped struct {
	kind, key string
	value     []byte
}

func (d dumped) String() string { return fmt.Sprintf("%q/%q=%q", d.kind, d.key, d.value) }

// dumpAll is what Dump gives, but for the store's own bookkeeping.
func dumpAll(t *testing.T, s store.Store) []dumped {
	t.Helper()
	var out []dumped
	var last *dumped
	err := store.Dump(t.Context(), s, func(kind, key string, value []byte) error {
		if last != nil && (kind < last.kind || kind == last.kind && key <= last.key) {
			t.Errorf("Dump gives %q/%q after %q/%q", kind, key, last.kind, last.key)
		}
		last = &dumped{kind: kind, key: key}
		if !store.OwnKind(kind) {
			out = append(out, dumped{kind, key, bytes.Clone(value)})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return out
}

func dumpEvery(t *testing.T, s store.Store) {
	bin := make([]byte, 300)
	for i := range bin {
		bin[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB
	want := []dumped{
		{"a", "", []byte("empty key")},
		{"a", "%", []byte("like wildcard")},
		{"a", "_", []byte{}},
		{"a", "a/\xff", bin},
		{"a", "a/1", big},
		{"a_b", "k", []byte("kind with an underscore")},
		{"b", "k", []byte(`{"json":true}`)},
		{"doc", "\x00nul", []byte{0, 0, 'x'}},
	}
	for i := range 300 {
		want = append(want, dumped{"many", fmt.Sprintf("%04d", i), []byte(fmt.Sprint(i))})
	}
	shuffled := slices.Clone(want)
	slices.Reverse(shuffled)
	update(t, s, func(_ context.Context, tx store.Tx) error {
		for _, d := range shuffled {
			if err := tx.Put(d.kind, d.key, d.value); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(want, func(a, b dumped) int {
		if c := strings.Compare(a.kind, b.kind); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	got := dumpAll(t, s)
	if len(got) != len(want) {
		t.Fatalf("Dump gave %d documents, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].kind != want[i].kind || got[i].key != want[i].key || !bytes.Equal(got[i].value, want[i].value) {
			t.Errorf("document %d = %.80v, want %.80v", i, got[i], want[i])
		}
	}
}

// dumpSnapshot commits a write while a dump is under way: the dump still
// shows the store as it was when it began, and the next one the write.
func dumpSnapshot(t *testing.T, s store.Store) {
	for i := range 10 {
		put(t, s, kind, fmt.Sprint(i), "v")
	}
	var keys []string
	var wrote chan error
	waited := false
	err := store.Dump(t.Context(), s, func(k, key string, _ []byte) error {
		if k != kind {
			return nil
		}
		if wrote == nil {
			wrote = make(chan error, 1)
			go func() {
				wrote <- s.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
					if err := tx.Delete(kind, "5"); err != nil {
						return err
					}
					return tx.Put(kind, "99", []byte("new"))
				})
			}()
			// A store on one connection (SQLite in memory) commits only
			// after the dump: then the write is not waited for here.
			select {
			case err := <-wrote:
				waited = true
				if err != nil {
					t.Errorf("Update during Dump: %v", err)
				}
			case <-time.After(time.Second):
			}
		}
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if !waited {
		within(t, 30*time.Second, func() {
			if err := <-wrote; err != nil {
				t.Errorf("Update after Dump: %v", err)
			}
		})
	}
	if want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; !slices.Equal(keys, want) {
		t.Errorf("Dump during a write = %q, want the snapshot %q", keys, want)
	}
	var after []string
	for _, d := range dumpAll(t, s) {
		after = append(after, d.key)
	}
	if want := []string{"0", "1", "2", "3", "4", "6", "7", "8", "9", "99"}; !slices.Equal(after, want) {
		t.Errorf("Dump after the write = %q, want %q", after, want)
	}
}
