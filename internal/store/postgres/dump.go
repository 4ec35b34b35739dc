package postgres

import (
	"context"
	"fmt"

	"github.com/aksid/aksid/internal/store"
)

var _ store.Dumper = (*Store)(nil)

// Dump implements store.Dumper: one query on the documents table inside a
// View, a REPEATABLE READ snapshot that never blocks writers. Rows stream
// from the server as fn consumes them.
func (s *Store) Dump(ctx context.Context, fn func(kind, key string, value []byte) error) error {
	return s.View(ctx, func(_ context.Context, tx store.Tx) error {
		t, ok := tx.(*txn)
		if !ok {
			return fmt.Errorf("postgres: dump: unexpected transaction %T", tx)
		}
		// kind is COLLATE "C" and key bytea: bytewise order, as SQLite's.
		rows, err := t.tx.Query(t.ctx, `SELECT kind, key, value FROM documents ORDER BY kind, key`)
		if err != nil {
			return fmt.Errorf("postgres: dump: %w", t.failed(err))
		}
		defer rows.Close()
		var kind string
		var key, value []byte
		for rows.Next() {
			if err := rows.Scan(&kind, &key, &value); err != nil {
				return fmt.Errorf("postgres: dump: %w", t.failed(err))
			}
			if err := fn(kind, string(key), nonNil(value)); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: dump: %w", t.failed(err))
		}
		return nil
	})
}
