package sqlite

import (
	"fmt"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// reindex replaces the index terms of kind/key with those of value; a nil
// value (a deletion) leaves none.
func (t *txn) reindex(kind, key string, value []byte) error {
	if len(store.IndexesOf(kind)) == 0 {
		return nil
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM doc_index WHERE kind = ? AND key = ?`, kind, key); err != nil {
		return fmt.Errorf("sqlite: index %s/%s: %w", kind, key, err)
	}
	if value == nil {
		return nil
	}
	for _, term := range store.TermsOf(kind, key, value) {
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO doc_index (kind, name, term, key) VALUES (?, ?, ?, ?)`,
			kind, term.Index, []byte(term.Term), key); err != nil {
			return fmt.Errorf("sqlite: index %s/%s: %w", kind, key, err)
		}
	}
	return nil
}

// Page implements store.Tx. Keys compare bytewise (BINARY collation), so
// the keys with prefix form one run starting at prefix; scanning it
// avoids LIKE and its wildcards.
func (t *txn) Page(kind, prefix, after string, limit int) ([]store.Item, error) {
	if err := t.usable(false); err != nil {
		return nil, err
	}
	from := max(prefix, after)
	op := ">="
	if after != "" && after >= prefix {
		op = ">"
	}
	q := `SELECT key, value FROM documents WHERE kind = ? AND key ` + op + ` ? ORDER BY key`
	args := []any{kind, from}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: page %s/%s*: %w", kind, prefix, err)
	}
	defer rows.Close()
	var items []store.Item
	for rows.Next() {
		var it store.Item
		if err := rows.Scan(&it.Key, &it.Value); err != nil {
			return nil, fmt.Errorf("sqlite: page %s/%s*: %w", kind, prefix, err)
		}
		if !strings.HasPrefix(it.Key, prefix) {
			break
		}
		it.Value = nonNil(it.Value)
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: page %s/%s*: %w", kind, prefix, err)
	}
	return items, nil
}

// Find implements store.Tx.
func (t *txn) Find(kind string, q store.Query) ([]store.Hit, error) {
	if err := t.usable(false); err != nil {
		return nil, err
	}
	var sb strings.Builder
	sb.WriteString(`SELECT i.term, i.key, d.value FROM doc_index i
		JOIN documents d ON d.kind = i.kind AND d.key = i.key
		WHERE i.kind = ? AND i.name = ?`)
	args := []any{kind, q.Index}
	switch {
	case len(q.Terms) > 0:
		sb.WriteString(` AND i.term IN (?` + strings.Repeat(`, ?`, len(q.Terms)-1) + `)`)
		for _, term := range q.Terms {
			args = append(args, []byte(term))
		}
	default:
		sb.WriteString(` AND i.term >= ?`)
		args = append(args, []byte(q.Prefix))
		if end := store.PrefixEnd(q.Prefix); end != "" {
			sb.WriteString(` AND i.term < ?`)
			args = append(args, []byte(end))
		}
	}
	if q.After != (store.Cursor{}) {
		sb.WriteString(` AND (i.term > ? OR (i.term = ? AND i.key > ?))`)
		args = append(args, []byte(q.After.Term), []byte(q.After.Term), q.After.Key)
	}
	sb.WriteString(` ORDER BY i.term, i.key`)
	if q.Limit > 0 {
		sb.WriteString(` LIMIT ?`)
		args = append(args, q.Limit)
	}
	rows, err := t.tx.QueryContext(t.ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find %s by %s: %w", kind, q.Index, err)
	}
	defer rows.Close()
	var hits []store.Hit
	for rows.Next() {
		var h store.Hit
		var term []byte
		if err := rows.Scan(&term, &h.Key, &h.Value); err != nil {
			return nil, fmt.Errorf("sqlite: find %s by %s: %w", kind, q.Index, err)
		}
		h.Term, h.Value = string(term), nonNil(h.Value)
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find %s by %s: %w", kind, q.Index, err)
	}
	return hits, nil
}
