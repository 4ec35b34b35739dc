package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/storetest"
)

func openFile(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// The suite may have closed s already; ErrClosed is expected then.
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openFile(t, filepath.Join(t.TempDir(), "aksid.db"))
	})
}

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenMemory(t.Context())
		if err != nil {
			t.Fatalf("OpenMemory: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "aksid.db")
		return openFile(t, path), openFile(t, path)
	})
}

func TestReopenKeepsData(t *testing.T) {
	// The odd directory name checks that the path is escaped in the DSN.
	dir := filepath.Join(t.TempDir(), "odd dir?#%")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "aksid.db")
	s := openFile(t, path)
	if err := s.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
		return tx.Create("doc", "k", []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openFile(t, path)
	if err := s.View(t.Context(), func(_ context.Context, tx store.Tx) error {
		v, err := tx.Get("doc", "k")
		if err == nil && string(v) != "v" {
			t.Errorf("after reopen: %q", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentOpen opens one new file from several goroutines at once, as
// processes starting together would, then checks the migration ran once and
// the file is in WAL mode.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aksid.db")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			t.Cleanup(func() { s.Close() })
		})
	}
	wg.Wait()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var n int
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_migrations has %d rows, %v; want 1", n, err)
	}
}

// increment adds one to the counter document by read-modify-write.
func increment(ctx context.Context, s *Store) error {
	return s.Update(ctx, func(_ context.Context, tx store.Tx) error {
		b, err := tx.Get("doc", "counter")
		if errors.Is(err, store.ErrNotFound) {
			b, err = binary.AppendUvarint(nil, 0), nil
		}
		if err != nil {
			return err
		}
		n, _ := binary.Uvarint(b)
		return tx.Put("doc", "counter", binary.AppendUvarint(nil, n+1))
	})
}

// childEnv names the database file a re-executed test binary increments.
const childEnv = "AKSID_STORE_SQLITE_CHILD_DB"

// TestTwoProcesses runs the test binary twice more as child processes that
// increment one counter alongside this process; none may lose an update.
func TestTwoProcesses(t *testing.T) {
	const each = 100
	if path := os.Getenv(childEnv); path != "" {
		s := openFile(t, path)
		for range each {
			if err := increment(t.Context(), s); err != nil {
				t.Fatalf("child: %v", err)
			}
		}
		return
	}
	path := filepath.Join(t.TempDir(), "aksid.db")
	s := openFile(t, path)
	var wg sync.WaitGroup
	for range 2 {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestTwoProcesses$")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child: %v\n%s", err, out)
			}
		})
	}
	for range each {
		if err := increment(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if err := s.View(t.Context(), func(_ context.Context, tx store.Tx) error {
		b, err := tx.Get("doc", "counter")
		if n, _ := binary.Uvarint(b); err == nil && n != 3*each {
			t.Errorf("counter = %d, want %d", n, 3*each)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
