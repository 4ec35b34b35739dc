// Package store persists aksid's state as JSON documents behind one transactional interface.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors every backend returns; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
	ErrClosed   = errors.New("store: closed")
	// ErrUnavailable: the database could not be reached (a PostgreSQL
	// server down or restarting). Faces answer 503, and a retry may work.
	ErrUnavailable = errors.New("store: unavailable")
)

// Item is one stored document.
type Item struct {
	Key   string
	Value []byte
}

// Store is the persistence contract. Documents live in kinds (like tables)
// under string keys. All access happens inside a transaction.
//
// Update runs fn in a serializable read-write transaction and commits when fn
// returns nil. A backend may run fn more than once (serialization retries),
// so fn must have no effects outside tx. When ctx already carries a
// transaction of this store (it was passed to an enclosing fn), Update joins
// it as a nested step: if the inner fn fails only its own writes are undone,
// and its error is returned to the enclosing fn, which decides.
//
// View runs fn in a read-only transaction (a nested View reuses the
// enclosing transaction).
type Store interface {
	View(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	Close() error
}

// Tx reads and writes documents inside one transaction.
type Tx interface {
	// Get returns ErrNotFound when kind/key is absent.
	Get(kind, key string) ([]byte, error)
	// Create returns ErrExists when kind/key is present.
	Create(kind, key string, value []byte) error
	// Put creates or replaces.
	Put(kind, key string, value []byte) error
	// Delete returns ErrNotFound when kind/key is absent.
	Delete(kind, key string) error
	// List returns the documents of kind whose key starts with prefix, ordered by key.
	List(kind, prefix string) ([]Item, error)
	// Page is List from the first key after `after` ("" for the start),
	// returning at most limit documents (all when limit ≤ 0): a listing
	// resumes where the previous page ended without reading what it skips.
	Page(kind, prefix, after string, limit int) ([]Item, error)
	// Find returns the documents of kind that q selects through one of
	// the kind's indexes (DefineIndex), ordered by term, then key.
	Find(kind string, q Query) ([]Hit, error)
}

// GetJSON reads kind/key into v.
func GetJSON(tx Tx, kind, key string, v any) error {
	b, err := tx.Get(kind, key)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// PutJSON writes v as kind/key, replacing any document there.
func PutJSON(tx Tx, kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(kind, key, b)
}

// CreateJSON writes v as kind/key; ErrExists when present.
func CreateJSON(tx Tx, kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Create(kind, key, b)
}

// ListJSON decodes the documents of kind whose key starts with prefix,
// ordered by key: the typed form of Tx.List, so callers neither unmarshal
// by hand nor read an item twice.
func ListJSON[T any](tx Tx, kind, prefix string) ([]T, error) {
	items, err := tx.List(kind, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Value, &out[i]); err != nil {
			return nil, fmt.Errorf("store: %s/%s: %w", kind, it.Key, err)
		}
	}
	return out, nil
}

// Entry is a decoded document with its key.
type Entry[T any] struct {
	Key   string
	Value T
}

// ListEntries is ListJSON for callers that also need each key.
func ListEntries[T any](tx Tx, kind, prefix string) ([]Entry[T], error) {
	items, err := tx.List(kind, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Entry[T], len(items))
	for i, it := range items {
		out[i].Key = it.Key
		if err := json.Unmarshal(it.Value, &out[i].Value); err != nil {
			return nil, fmt.Errorf("store: %s/%s: %w", kind, it.Key, err)
		}
	}
	return out, nil
}
