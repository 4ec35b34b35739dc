package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
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
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != migrationCount(t) {
		t.Errorf("schema_migrations has %d rows, %v; want one per migration", n, err)
	}
}

// TestTwoProcesses runs the test binary twice more as child processes that
// increment one counter alongside this process; none may lose an update.
func TestTwoProcesses(t *testing.T) {
	storetest.RunTwoProcesses(t, "AKSID_STORE_SQLITE_CHILD_DB", filepath.Join(t.TempDir(), "aksid.db"),
		func(t *testing.T, path string) store.Store { return openFile(t, path) })
}

// migrationCount is how many migrations the package embeds.
func migrationCount(t *testing.T) int {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestDump(t *testing.T) {
	t.Run("File", func(t *testing.T) {
		storetest.RunDump(t, func(t *testing.T) store.Store {
			return openFile(t, filepath.Join(t.TempDir(), "aksid.db"))
		})
	})
	t.Run("Memory", func(t *testing.T) {
		storetest.RunDump(t, func(t *testing.T) store.Store {
			s, err := OpenMemory(t.Context())
			if err != nil {
				t.Fatalf("OpenMemory: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}
