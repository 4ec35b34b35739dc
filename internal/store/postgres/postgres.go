// Package postgres is the store.Store backend on PostgreSQL, for replicas of aksid sharing one database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aksid/aksid/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// updateAttempts bounds the retries of an Update that PostgreSQL refused
// for a serialization failure or a deadlock, both of which ask for a retry.
const updateAttempts = 30

// migrationLock is the advisory lock key under which replicas starting
// together apply migrations one at a time.
const migrationLock = 0x616b736964 // "aksid"

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool    *pgxpool.Pool
	closed  atomic.Bool
	onRetry atomic.Pointer[func()]
}

// OnRetry makes f be called each time an Update is run again.
func (s *Store) OnRetry(f func()) { s.onRetry.Store(&f) }

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://…), applies the
// migrations it lacks and returns the store.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool}
	if err := store.EnsureIndexes(ctx, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: build indexes: %w", err)
	}
	return s, nil
}

// PoolSize is the most connections the store opens at once.
func (s *Store) PoolSize() int32 { return s.pool.Config().MaxConns }

// migrate applies the embedded migrations schema_migrations does not list,
// in one transaction holding an advisory lock, so replicas starting at the
// same moment apply each once.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	type migration struct {
		version int
		name    string
	}
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("postgres: migration %s: name must start with a version number", e.Name())
		}
		ms = append(ms, migration{v, e.Name()})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		applied := map[int]bool{}
		for _, v := range versions {
			if len(ms) == 0 || int(v) > ms[len(ms)-1].version {
				return fmt.Errorf("postgres: database schema version %d is newer than this program", v)
			}
			applied[int(v)] = true
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			body, err := migrations.ReadFile("migrations/" + m.name)
			if err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// Close closes the pool; later calls, including Close, return
// store.ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return store.ErrClosed
	}
	s.pool.Close()
	return nil
}

// ctxKey is the context key under which fn's ctx carries the running
// transaction; it includes the Store so that one Store never joins
// another's transaction.
type ctxKey struct{ s *Store }

func (s *Store) active(ctx context.Context) *txn {
	t, _ := ctx.Value(ctxKey{s}).(*txn)
	if t == nil || t.done.Load() {
		return nil
	}
	return t
}

// View implements store.Store: a read-only snapshot (repeatable read). Inside
// an Update or View it reuses that transaction, read-only.
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
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, true, fn)
}

// Update implements store.Store: a serializable transaction, run again
// when PostgreSQL reports a serialization failure or a deadlock. Inside
// another Update it runs under a savepoint; inside a View it fails.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if t := s.active(ctx); t != nil {
		if t.readOnly {
			return errors.New("postgres: Update inside View: the transaction is read-only")
		}
		return t.nested(ctx, fn)
	}
	for attempt := 1; ; attempt++ {
		err := s.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, false, fn)
		if attempt == updateAttempts || !retryable(err) {
			return err
		}
		if f := s.onRetry.Load(); f != nil {
			(*f)()
		}
		// Back off with jitter so the transactions that collided do not
		// collide again.
		d := time.Duration(attempt)*2*time.Millisecond + rand.N(5*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// run executes fn in a new transaction and commits it unless fn fails or
// the transaction is read-only.
func (s *Store) run(ctx context.Context, opts pgx.TxOptions, readOnly bool, fn func(context.Context, store.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		if s.closed.Load() {
			return store.ErrClosed
		}
		return fmt.Errorf("postgres: begin: %w", unavailable(err))
	}
	// Rollback after Commit is a no-op; on error or panic it undoes fn.
	defer func() { _ = ptx.Rollback(context.WithoutCancel(ctx)) }()
	t := &txn{s: s, tx: ptx, ctx: ctx, readOnly: readOnly}
	t.root = t
	defer t.done.Store(true)
	if err := fn(context.WithValue(ctx, ctxKey{s}, t), t); err != nil {
		// A statement the server refused for a serialization failure
		// surfaces here wrapped by fn; it is retried like one at commit.
		if t.failure != nil && retryable(t.failure) {
			return t.failure
		}
		return err
	}
	if t.broken != nil {
		return t.broken
	}
	if readOnly {
		return nil
	}
	if err := ptx.Commit(ctx); err != nil {
		if t.failure != nil && retryable(t.failure) {
			// fn went on past a serialization failure it did not return.
			return t.failure
		}
		return fmt.Errorf("postgres: commit: %w", unavailable(err))
	}
	return nil
}

// unavailable marks an error that says the server cannot be reached
// (no connection, the connection lost, the server shutting down or
// starting) as store.ErrUnavailable; others pass unchanged.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: shutdown, crash
		// shutdown, cannot connect now.
		if strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// Anything else from pgx before the server answered is the network's.
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// retryable reports whether err asks for the transaction to be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
