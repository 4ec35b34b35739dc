package store

import (
	"context"
	"errors"
)

// Dumper is implemented by backends that can enumerate every document they
// hold, for backups.
//
// Dump calls fn once per document in one read transaction (a consistent
// snapshot, as View gives), in (kind, key) order compared bytewise, and
// stops at fn's first error, which it returns. Only the documents are
// dumped: what a backend derives from them on write (indexes) is not. value
// is only valid during the call; fn copies it to keep it. fn must not use
// the store itself: a single-connection store would wait on itself.
type Dumper interface {
	Dump(ctx context.Context, fn func(kind, key string, value []byte) error) error
}

// OwnKind reports whether kind holds a store's own bookkeeping rather than
// aksid's data: the record of which indexes it has built ("store_index",
// written by EnsureIndexes when a store opens). A new store may already
// hold such documents; a backup leaves them out, since the store it is
// restored into keeps its own while the restore's writes rebuild the
// indexes. RunDump checks that a new store holds nothing else.
func OwnKind(kind string) bool { return kind == kindIndexBuilt }

// ErrNoDump is returned by Dump for a store that cannot enumerate its
// documents.
var ErrNoDump = errors.New("store: this backend cannot list all its documents")

// Dump enumerates every document of s through its Dumper, or returns
// ErrNoDump.
func Dump(ctx context.Context, s Store, fn func(kind, key string, value []byte) error) error {
	d, ok := s.(Dumper)
	if !ok {
		return ErrNoDump
	}
	return d.Dump(ctx, fn)
}
