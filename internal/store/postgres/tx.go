package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/aksid/aksid/internal/store"
)

// txn is the store.Tx handed to fn. Nested Updates and Views get their own
// txn sharing the same pgx.Tx; a txn is not for concurrent use.
type txn struct {
	s        *Store
	tx       pgx.Tx
	ctx      context.Context
	readOnly bool
	depth    int
	root     *txn
	// broken, set on root, makes the commit fail: a savepoint could not be
	// ended, so the transaction's contents are no longer what fn decided.
	broken error
	// failure, set on root, is the first error the server returned in
	// this transaction: after it, PostgreSQL refuses every statement.
	failure error
	done    atomic.Bool
}

var _ store.Tx = (*txn)(nil)

func (t *txn) usable(write bool) error {
	if t.done.Load() {
		return errors.New("postgres: transaction already finished")
	}
	if write && t.readOnly {
		return errors.New("postgres: write in a read-only transaction")
	}
	return nil
}

// failed records the transaction's first server error, marking one that
// says the server is out of reach as store.ErrUnavailable.
func (t *txn) failed(err error) error {
	err = unavailable(err)
	if err != nil && t.root.failure == nil {
		t.root.failure = err
	}
	return err
}

// Get implements store.Tx.
func (t *txn) Get(kind, key string) ([]byte, error) {
	if err := t.usable(false); err != nil {
		return nil, err
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, `SELECT value FROM documents WHERE kind = $1 AND key = $2`, kind, []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s/%s", store.ErrNotFound, kind, key)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get %s/%s: %w", kind, key, t.failed(err))
	}
	return nonNil(v), nil
}

// Create implements store.Tx. ON CONFLICT keeps a present key from failing
// the whole transaction (any error does in PostgreSQL), so fn may handle
// ErrExists and go on.
func (t *txn) Create(kind, key string, value []byte) error {
	if err := t.usable(true); err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO documents (kind, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (kind, key) DO NOTHING`, kind, []byte(key), nonNil(value))
	if err != nil {
		return fmt.Errorf("postgres: create %s/%s: %w", kind, key, t.failed(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s/%s", store.ErrExists, kind, key)
	}
	return t.reindex(kind, key, nonNil(value))
}

// Put implements store.Tx.
func (t *txn) Put(kind, key string, value []byte) error {
	if err := t.usable(true); err != nil {
		return err
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO documents (kind, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`, kind, []byte(key), nonNil(value))
	if err != nil {
		return fmt.Errorf("postgres: put %s/%s: %w", kind, key, t.failed(err))
	}
	return t.reindex(kind, key, nonNil(value))
}

// Delete implements store.Tx.
func (t *txn) Delete(kind, key string) error {
	if err := t.usable(true); err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `DELETE FROM documents WHERE kind = $1 AND key = $2`, kind, []byte(key))
	if err != nil {
		return fmt.Errorf("postgres: delete %s/%s: %w", kind, key, t.failed(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s/%s", store.ErrNotFound, kind, key)
	}
	return t.reindex(kind, key, nil)
}

// List implements store.Tx: a Page from the start, unbounded. A LIKE
// prefix pattern on bytea is a range of the primary key.
func (t *txn) List(kind, prefix string) ([]store.Item, error) {
	return t.Page(kind, prefix, "", 0)
}

// likePrefix is a LIKE pattern matching the keys that start with prefix
// (backslash is LIKE's default escape).
func likePrefix(prefix string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(prefix) + "%"
}

// nested runs fn under a savepoint of t: on failure only fn's writes are
// rolled back and fn's error is returned for the enclosing fn to judge.
func (t *txn) nested(ctx context.Context, fn func(context.Context, store.Tx) error) error {
	child := &txn{s: t.s, tx: t.tx, ctx: ctx, depth: t.depth + 1, root: t.root}
	sp := "s" + strconv.Itoa(child.depth)
	if _, err := t.tx.Exec(ctx, "SAVEPOINT "+sp); err != nil {
		return fmt.Errorf("postgres: savepoint: %w", t.failed(err))
	}
	finished := false
	defer func() {
		child.done.Store(true)
		if !finished {
			t.root.broken = errors.New("postgres: nested Update panicked")
		}
	}()
	before := t.root.failure
	ferr := fn(context.WithValue(ctx, ctxKey{t.s}, child), child)
	finished = true
	cctx := context.WithoutCancel(ctx)
	var cerr error
	if ferr != nil {
		// Rolling back to the savepoint also clears a server error fn
		// met, so the enclosing transaction can go on.
		if _, cerr = t.tx.Exec(cctx, "ROLLBACK TO SAVEPOINT "+sp); cerr == nil && !retryable(t.root.failure) {
			t.root.failure = before
		}
	}
	if cerr == nil {
		_, cerr = t.tx.Exec(cctx, "RELEASE SAVEPOINT "+sp)
	}
	if cerr != nil {
		cerr = fmt.Errorf("postgres: end savepoint: %w", cerr)
		t.root.broken = cerr
		return errors.Join(ferr, cerr)
	}
	return ferr
}

// nonNil maps nil to an empty slice for the NOT NULL column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
