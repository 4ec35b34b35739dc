package sqlite

import (
	"context"
	"fmt"

	"github.com/aksid/aksid/internal/store"
)

var _ store.Dumper = (*Store)(nil)

// Dump implements store.Dumper: one query on the documents table inside a
// View, whose WAL snapshot holds from the first row to the last while
// writers go on.
func (s *Store) Dump(ctx context.Context, fn func(kind, key string, value []byte) error) error {
	return s.View(ctx, func(_ context.Context, tx store.Tx) error {
		t, ok := tx.(*txn)
		if !ok {
			return fmt.Errorf("sqlite: dump: unexpected transaction %T", tx)
		}
		// The primary key orders rows by (kind, key) with BINARY
		// collation, so this is an index scan in bytewise order.
		rows, err := t.tx.QueryContext(t.ctx, `SELECT kind, key, value FROM documents ORDER BY kind, key`)
		if err != nil {
			return fmt.Errorf("sqlite: dump: %w", err)
		}
		defer rows.Close()
		var kind, key string
		var value []byte
		for rows.Next() {
			if err := rows.Scan(&kind, &key, &value); err != nil {
				return fmt.Errorf("sqlite: dump: %w", err)
			}
			if err := fn(kind, key, nonNil(value)); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: dump: %w", err)
		}
		return nil
	})
}
