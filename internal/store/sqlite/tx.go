package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aksid/aksid/internal/store"
)

// txn is the store.Tx handed to fn. Nested Updates and Views get their own
// txn sharing the same *sql.Tx; a txn is not for concurrent use.
type txn struct {
	s        *Store
	tx       *sql.Tx
	ctx      context.Context // the ctx of the View or Update that made this txn
	readOnly bool
	depth    int  // savepoint nesting level; 0 for the outermost transaction
	root     *txn // the outermost txn, which owns broken
	// broken, set on root, makes the commit fail: a savepoint could not be
	// ended, so the transaction's contents are no longer what fn decided.
	broken error
	// done is set once fn returned, so a leaked Tx or ctx is not reused.
	done atomic.Bool
}

var _ store.Tx = (*txn)(nil)

func (t *txn) usable(write bool) error {
	if t.done.Load() {
		return errors.New("sqlite: transaction already finished")
	}
	if write && t.readOnly {
		return errors.New("sqlite: write in a read-only transaction")
	}
	return nil
}

// Get implements store.Tx.
func (t *txn) Get(kind, key string) ([]byte, error) {
	if err := t.usable(false); err != nil {
		return nil, err
	}
	var v []byte
	err := t.tx.QueryRowContext(t.ctx,
		`SELECT value FROM documents WHERE kind = ? AND key = ?`, kind, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s/%s", store.ErrNotFound, kind, key)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get %s/%s: %w", kind, key, err)
	}
	return nonNil(v), nil
}

// Create implements store.Tx.
func (t *txn) Create(kind, key string, value []byte) error {
	if err := t.usable(true); err != nil {
		return err
	}
	// A constraint violation fails only this statement, not the transaction,
	// so fn may handle ErrExists and go on.
	_, err := t.tx.ExecContext(t.ctx,
		`INSERT INTO documents (kind, key, value) VALUES (?, ?, ?)`, kind, key, nonNil(value))
	if c := code(err); c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return fmt.Errorf("%w: %s/%s", store.ErrExists, kind, key)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s/%s: %w", kind, key, err)
	}
	return t.reindex(kind, key, nonNil(value))
}

// Put implements store.Tx.
func (t *txn) Put(kind, key string, value []byte) error {
	if err := t.usable(true); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(t.ctx,
		`INSERT INTO documents (kind, key, value) VALUES (?, ?, ?)
		 ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value`, kind, key, nonNil(value))
	if err != nil {
		return fmt.Errorf("sqlite: put %s/%s: %w", kind, key, err)
	}
	return t.reindex(kind, key, nonNil(value))
}

// Delete implements store.Tx.
func (t *txn) Delete(kind, key string) error {
	if err := t.usable(true); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM documents WHERE kind = ? AND key = ?`, kind, key)
	if err != nil {
		return fmt.Errorf("sqlite: delete %s/%s: %w", kind, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete %s/%s: %w", kind, key, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s/%s", store.ErrNotFound, kind, key)
	}
	return t.reindex(kind, key, nil)
}

// List implements store.Tx: a Page from the start, unbounded.
func (t *txn) List(kind, prefix string) ([]store.Item, error) {
	return t.Page(kind, prefix, "", 0)
}

// nonNil maps nil to an empty slice: the driver binds nil as NULL, which the
// NOT NULL column rejects, and reads an empty BLOB back as nil.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
