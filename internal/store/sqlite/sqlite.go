// Package sqlite implements store.Store on SQLite through the pure-Go modernc.org/sqlite driver.
package sqlite

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store"
)

const (
	// busyTimeout is how long SQLite itself waits for a lock held by another
	// connection or process before reporting SQLITE_BUSY.
	busyTimeout = 10 * time.Second
	// updateAttempts bounds how often Update re-runs after SQLITE_BUSY or
	// SQLITE_LOCKED outlasted busyTimeout.
	updateAttempts = 4
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store on one SQLite database. It is safe for concurrent
// use; Updates are serialised through a single writer connection.
type Store struct {
	w      *sql.DB // exactly one connection; every transaction is BEGIN IMMEDIATE
	r      *sql.DB // read-only pool for View; the same as w for in-memory stores
	closed atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path in WAL mode and
// applies pending schema migrations. Several Stores, in this or other
// processes, may open the same file at once.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if err := private(abs); err != nil {
		return nil, err
	}
	base := (&url.URL{Scheme: "file", Path: abs}).String()
	w, err := openWriter(ctx, base)
	if err != nil {
		return nil, err
	}
	r, err := openDB(base, url.Values{
		"_pragma": {busyPragma(), "query_only(1)"},
	}, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		w.Close()
		return nil, err
	}
	s := &Store{w: w, r: r}
	if err := store.EnsureIndexes(ctx, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: build indexes: %w", err)
	}
	return s, nil
}

// openWriter opens the single writer connection and migrates, before the
// read pool exists, so that readers always find the file in WAL mode with the
// current schema. Switching a new file to WAL can report SQLITE_BUSY at once,
// without SQLite's busy handler, when other processes open it at the same
// moment; that case is retried here until busyTimeout.
func openWriter(ctx context.Context, base string) (*sql.DB, error) {
	wall := clock.Wall{} // a lock wait, not a domain time
	deadline := wall.Now().Add(busyTimeout)
	for {
		// FULL: each commit's WAL frames are synced before it is
		// acknowledged, so an answered write survives kill -9 and power
		// loss alike (test/e2e TestCrashLosesNoAcknowledgedWrite).
		w, err := openDB(base, url.Values{
			"_pragma": {busyPragma(), "journal_mode(WAL)", "synchronous(FULL)"},
			"_txlock": {"immediate"},
		}, 1)
		if err != nil {
			return nil, err
		}
		err = migrate(ctx, w)
		if err == nil {
			return w, nil
		}
		w.Close()
		if !isBusy(err) || wall.Now().After(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// OpenMemory opens an empty database that lives in memory until Close.
// It uses a single connection for reads and writes, so Views wait for
// Updates; use it for tests and throwaway state.
func OpenMemory(ctx context.Context) (*Store, error) {
	// The random name keeps concurrent in-memory stores apart even though a
	// shared cache makes the name visible process-wide.
	base := "file:aksid-" + crand.Text() + "?mode=memory&cache=shared"
	db, err := openDB(base, url.Values{
		"_pragma": {busyPragma()},
		"_txlock": {"immediate"},
	}, 1)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{w: db, r: db}
	if err := store.EnsureIndexes(ctx, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: build indexes: %w", err)
	}
	return s, nil
}

func busyPragma() string {
	return "busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")"
}

// openDB opens a pool of at most conns connections that are never recycled:
// for an in-memory database, losing the last connection loses the data.
func openDB(base string, params url.Values, conns int) (*sql.DB, error) {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	db, err := sql.Open("sqlite", base+sep+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// migrate applies the embedded migrations that schema_migrations does not
// list yet. It runs in one BEGIN IMMEDIATE transaction, so a second process
// opening the same file waits and then finds everything applied.
func migrate(ctx context.Context, db *sql.DB) error {
	type migration struct {
		version int
		name    string
	}
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: name must start with a version number", e.Name())
		}
		ms = append(ms, migration{v, e.Name()})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		applied[v] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for v := range applied {
		if len(ms) == 0 || v > ms[len(ms)-1].version {
			return fmt.Errorf("sqlite: database schema version %d is newer than this program", v)
		}
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + m.name)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, clock.Wall{}.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Close closes the database; later calls, including Close, return
// store.ErrClosed. Transactions still running fail or finish first.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return store.ErrClosed
	}
	var err error
	if s.r != s.w {
		err = s.r.Close()
	}
	return errors.Join(err, s.w.Close())
}

// ctxKey is the context key under which fn's ctx carries the running
// transaction. It includes the Store so that a transaction of one Store
// is never joined by another.
type ctxKey struct{ s *Store }

// active returns the transaction of s that ctx carries, if it still runs.
func (s *Store) active(ctx context.Context) *txn {
	t, _ := ctx.Value(ctxKey{s}).(*txn)
	if t == nil || t.done.Load() {
		return nil
	}
	return t
}

// View implements store.Store. Inside an Update or View (ctx passed to its
// fn) it reuses that transaction, read-only.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if t := s.active(ctx); t != nil {
		if t.readOnly {
			return fn(ctx, t)
		}
		ro := &txn{s: s, tx: t.tx, ctx: ctx, readOnly: true, depth: t.depth, root: t.root}
		defer ro.done.Store(true)
		return fn(context.WithValue(ctx, ctxKey{s}, ro), ro)
	}
	return s.run(ctx, s.r, true, fn)
}

// Update implements store.Store. Inside another Update (ctx passed to its
// fn) it runs fn under a savepoint of that transaction; inside a View it
// fails, because a read transaction cannot be upgraded. Pass fn's ctx down:
// an Update on an unrelated ctx inside fn waits for the single writer
// connection, which fn's own transaction holds, until that ctx is done.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if t := s.active(ctx); t != nil {
		if t.readOnly {
			return errors.New("sqlite: Update inside View: the transaction is read-only")
		}
		return t.nested(ctx, fn)
	}
	for attempt := 1; ; attempt++ {
		err := s.run(ctx, s.w, false, fn)
		if attempt == updateAttempts || !isBusy(err) {
			return err
		}
		// Another process kept the file locked past busyTimeout; back off
		// with jitter so that two contending processes do not collide again.
		d := time.Duration(attempt)*20*time.Millisecond + rand.N(20*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// run executes fn in a new transaction on db and commits it unless fn fails
// or the transaction is read-only.
func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(context.Context, store.Tx) error) error {
	stx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		if s.closed.Load() {
			return store.ErrClosed
		}
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// Rollback after Commit is a no-op; on error or panic it undoes fn.
	defer stx.Rollback()
	t := &txn{s: s, tx: stx, ctx: ctx, readOnly: readOnly}
	t.root = t
	defer t.done.Store(true)
	if err := fn(context.WithValue(ctx, ctxKey{s}, t), t); err != nil {
		return err
	}
	if t.broken != nil {
		return t.broken
	}
	if readOnly {
		return nil
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// nested runs fn under a savepoint of t: on failure only fn's writes are
// rolled back and fn's error is returned for the enclosing fn to judge.
func (t *txn) nested(ctx context.Context, fn func(context.Context, store.Tx) error) error {
	child := &txn{s: t.s, tx: t.tx, ctx: ctx, depth: t.depth + 1, root: t.root}
	sp := "s" + strconv.Itoa(child.depth)
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	finished := false
	defer func() {
		child.done.Store(true)
		if !finished {
			// fn panicked and the savepoint is still open; if the panic is
			// recovered, committing would keep fn's partial writes.
			t.root.broken = errors.New("sqlite: nested Update panicked")
		}
	}()
	ferr := fn(context.WithValue(ctx, ctxKey{t.s}, child), child)
	finished = true
	// Cleanup must run even when ctx is cancelled, or the savepoint's
	// writes would stay in the enclosing transaction.
	cctx := context.WithoutCancel(ctx)
	var cerr error
	if ferr != nil {
		_, cerr = t.tx.ExecContext(cctx, "ROLLBACK TO "+sp)
	}
	if cerr == nil {
		_, cerr = t.tx.ExecContext(cctx, "RELEASE "+sp)
	}
	if cerr != nil {
		cerr = fmt.Errorf("sqlite: end savepoint: %w", cerr)
		t.root.broken = cerr
		return errors.Join(ferr, cerr)
	}
	return ferr
}

// code returns the primary or extended SQLite result code of err, or 0.
func code(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isBusy reports whether err means another connection held a lock.
func isBusy(err error) bool {
	c := code(err) & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}
