package store

import "context"

// Document is one document to load: its kind, key and value.
type Document struct {
	Kind, Key string
	Value     []byte
}

// Loader is implemented by backends that can write many documents at
// once faster than Put by Put (PostgreSQL's COPY): a bulk import or a
// restore. Load writes docs in one transaction, replacing documents
// present, with their index terms, exactly as Puts would.
type Loader interface {
	Load(ctx context.Context, docs []Document) error
}

// Load writes docs through s's Loader, or Put by Put in one Update when
// the backend has none.
func Load(ctx context.Context, s Store, docs []Document) error {
	if l, ok := s.(Loader); ok {
		return l.Load(ctx, docs)
	}
	return s.Update(ctx, func(ctx context.Context, tx Tx) error {
		for _, d := range docs {
			if err := tx.Put(d.Kind, d.Key, d.Value); err != nil {
				return err
			}
		}
		return nil
	})
}
