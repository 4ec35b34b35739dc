package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/aksid/aksid/internal/store"
)

// reindex replaces the index terms of kind/key with those of value; a nil
// value (a deletion) leaves none.
func (t *txn) reindex(kind, key string, value []byte) error {
	if len(store.IndexesOf(kind)) == 0 {
		return nil
	}
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM doc_index WHERE kind = $1 AND key = $2`, kind, []byte(key)); err != nil {
		return fmt.Errorf("postgres: index %s/%s: %w", kind, key, t.failed(err))
	}
	if value == nil {
		return nil
	}
	for _, term := range store.TermsOf(kind, key, value) {
		if _, err := t.tx.Exec(t.ctx, `INSERT INTO doc_index (kind, name, term, key) VALUES ($1, $2, $3, $4)`,
			kind, term.Index, []byte(term.Term), []byte(key)); err != nil {
			return fmt.Errorf("postgres: index %s/%s: %w", kind, key, t.failed(err))
		}
	}
	return nil
}

// Page implements store.Tx.
func (t *txn) Page(kind, prefix, after string, limit int) ([]store.Item, error) {
	if err := t.usable(false); err != nil {
		return nil, err
	}
	q := `SELECT key, value FROM documents WHERE kind = $1 AND key LIKE $2`
	args := []any{kind, []byte(likePrefix(prefix))}
	if after != "" {
		args = append(args, []byte(after))
		q += ` AND key > $3`
	}
	q += ` ORDER BY key`
	if limit > 0 {
		args = append(args, limit)
		q += ` LIMIT $` + strconv.Itoa(len(args))
	}
	rows, err := t.tx.Query(t.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: page %s/%s*: %w", kind, prefix, t.failed(err))
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Item, error) {
		var key []byte
		var it store.Item
		err := r.Scan(&key, &it.Value)
		it.Key, it.Value = string(key), nonNil(it.Value)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: page %s/%s*: %w", kind, prefix, t.failed(err))
	}
	return items, nil
}

// Find implements store.Tx.
func (t *txn) Find(kind string, q store.Query) ([]store.Hit, error) {
	if err := t.usable(false); err != nil {
		return nil, err
	}
	var sb strings.Builder
	args := []any{kind, q.Index}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	sb.WriteString(`SELECT i.term, i.key, d.value FROM doc_index i
		JOIN documents d ON d.kind = i.kind AND d.key = i.key
		WHERE i.kind = $1 AND i.name = $2`)
	switch {
	case len(q.Terms) > 0:
		terms := make([][]byte, len(q.Terms))
		for i, term := range q.Terms {
			terms[i] = []byte(term)
		}
		sb.WriteString(` AND i.term = ANY(` + arg(terms) + `)`)
	default:
		sb.WriteString(` AND i.term >= ` + arg([]byte(q.Prefix)))
		if end := store.PrefixEnd(q.Prefix); end != "" {
			sb.WriteString(` AND i.term < ` + arg([]byte(end)))
		}
	}
	if q.After != (store.Cursor{}) {
		sb.WriteString(` AND (i.term, i.key) > (` + arg([]byte(q.After.Term)) + `, ` + arg([]byte(q.After.Key)) + `)`)
	}
	sb.WriteString(` ORDER BY i.term, i.key`)
	if q.Limit > 0 {
		sb.WriteString(` LIMIT ` + arg(q.Limit))
	}
	rows, err := t.tx.Query(t.ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: find %s by %s: %w", kind, q.Index, t.failed(err))
	}
	hits, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Hit, error) {
		var term, key []byte
		var h store.Hit
		err := r.Scan(&term, &key, &h.Value)
		h.Term, h.Key, h.Value = string(term), string(key), nonNil(h.Value)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find %s by %s: %w", kind, q.Index, t.failed(err))
	}
	return hits, nil
}
