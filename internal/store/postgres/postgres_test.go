package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"

	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/postgres/pgtest"
	"github.com/aksid/aksid/internal/store/storetest"
)

var server *pgtest.Server

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(m.Run()) // a child of TestTwoProcesses uses its parent's server
	}
	var err error
	if server, err = pgtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	server.Stop()
	os.Exit(code)
}

func newURL(t *testing.T) string {
	t.Helper()
	url, err := server.NewDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, newURL(t)) })
}

func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		url := newURL(t)
		return open(t, url), open(t, url)
	})
}

// Replicas starting together on a new database apply the migrations
// once, under the advisory lock, and all of them start.
func TestConcurrentOpen(t *testing.T) {
	url := newURL(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), url)
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := open(t, url)
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != migrationCount(t) {
		t.Fatalf("schema_migrations has %d rows, %v; want one per migration", n, err)
	}
	if s.PoolSize() < 1 {
		t.Fatalf("pool size %d", s.PoolSize())
	}
}

func TestClosed(t *testing.T) {
	s := open(t, newURL(t))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.View(t.Context(), func(context.Context, store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("View after Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

// Keys with LIKE's wildcards list by their literal prefix.
func TestListPrefixIsLiteral(t *testing.T) {
	s := open(t, newURL(t))
	ctx := t.Context()
	if err := s.Update(ctx, func(_ context.Context, tx store.Tx) error {
		for _, k := range []string{`a%b`, `a%c`, `axb`, `a_1`, `ab1`, `a\z`, `a\\z`} {
			if err := tx.Put("k", k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string]int{`a%`: 2, `a_`: 1, `a\`: 2, `a\\`: 1, `a`: 7, `ab`: 1} {
		if err := s.View(ctx, func(_ context.Context, tx store.Tx) error {
			items, err := tx.List("k", prefix)
			if err == nil && len(items) != want {
				err = fmt.Errorf("List(%q) = %d items, want %d", prefix, len(items), want)
			}
			return err
		}); err != nil {
			t.Error(err)
		}
	}
}

// childEnv names the database a re-executed test binary increments.
const childEnv = "AKSID_STORE_POSTGRES_CHILD_URL"

// TestTwoProcesses runs the test binary twice more as child processes that
// increment one counter alongside this process: serialization failures
// are retried inside the store, and no update is lost.
func TestTwoProcesses(t *testing.T) {
	where := ""
	if os.Getenv(childEnv) == "" {
		where = newURL(t)
	}
	storetest.RunTwoProcesses(t, childEnv, where, func(t *testing.T, url string) store.Store { return open(t, url) })
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
	storetest.RunDump(t, func(t *testing.T) store.Store { return open(t, newURL(t)) })
}
