package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// Target is where a restore writes.
type Target struct {
	Dir string // the data directory, made (0700) when missing
	// Files are the key files, put in place in this order once every
	// document is written: list last the one whose presence means the
	// others are there.
	Files []File
	Store store.Store
}

// ErrNotEmpty is returned by Restore, when Options.Force is not set, for a
// target that already holds key files or documents.
var ErrNotEmpty = errors.New("the target already holds aksid data")

const defaultBatch = 500

// VerifyFile checks the archive at path as Verify does.
func VerifyFile(path string, want []File) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	return Verify(f, want)
}

// RestoreFile restores the archive at path into dst (see Restore).
func RestoreFile(ctx context.Context, path string, dst Target, opt Options) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	return Restore(ctx, f, dst, opt)
}

// Restore checks the whole archive first, then writes its documents into
// dst.Store through store.Load (as Puts would write them, in
// transactions of Options.BatchSize), so what the store derives on write
// is rebuilt, and
// last puts its key files in place with their modes. It refuses a target
// that holds key files or documents (but for the store's own
// bookkeeping) unless Options.Force is set; then it deletes the target's
// documents first, so the store ends up as the archive has it.
func Restore(ctx context.Context, in io.ReadSeeker, dst Target, opt Options) (Summary, error) {
	sum, err := Verify(in, dst.Files)
	if err != nil {
		return Summary{}, err
	}
	held, err := holds(ctx, dst)
	if err != nil {
		return Summary{}, err
	}
	if len(held) > 0 && !opt.Force {
		return Summary{}, fmt.Errorf("%w: %s", ErrNotEmpty, strings.Join(held, ", "))
	}
	size := opt.BatchSize
	if size <= 0 {
		size = defaultBatch
	}
	if opt.Force {
		if err := clearStore(ctx, dst.Store, size); err != nil {
			return Summary{}, err
		}
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	files := map[string][]byte{}
	var batch []store.Document
	var written int64
	flush := func() error {
		// store.Load writes as Puts would, index terms included, with
		// PostgreSQL's COPY instead of a round trip per statement.
		err := store.Load(ctx, dst.Store, batch)
		if err == nil {
			written += int64(len(batch))
			batch = batch[:0]
		}
		return err
	}
	_, err = read(in, dst.Files, visitor{
		file: func(name string, data []byte) error { files[name] = data; return nil },
		doc: func(kind, key string, value []byte) error {
			if store.OwnKind(kind) {
				return nil
			}
			batch = append(batch, store.Document{Kind: kind, Key: key, Value: value})
			if len(batch) < size {
				return nil
			}
			return flush()
		},
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return Summary{}, fmt.Errorf("backup: restore stopped after %d of %d documents; the store is partly written (restore again, replacing it): %w",
			written, sum.Documents, err)
	}
	if err := placeFiles(dst, files); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

// errStop ends a Dump early.
var errStop = errors.New("stop")

// holds names what the target already has: its key files, and documents.
func holds(ctx context.Context, dst Target) ([]string, error) {
	var held []string
	for _, f := range dst.Files {
		if _, err := os.Lstat(filepath.Join(dst.Dir, f.Name)); err == nil {
			held = append(held, filepath.Join(dst.Dir, f.Name))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("backup: %w", err)
		}
	}
	err := store.Dump(ctx, dst.Store, func(kind, _ string, _ []byte) error {
		if store.OwnKind(kind) {
			return nil
		}
		return errStop
	})
	switch {
	case errors.Is(err, errStop):
		held = append(held, "documents in the store")
	case err != nil:
		return nil, fmt.Errorf("backup: reading the target store: %w", err)
	}
	return held, nil
}

// clearStore deletes every document of s but the store's own bookkeeping,
// through the ordinary write path, size at a time.
func clearStore(ctx context.Context, s store.Store, size int) error {
	type ref struct{ kind, key string }
	var refs []ref
	err := store.Dump(ctx, s, func(kind, key string, _ []byte) error {
		if !store.OwnKind(kind) {
			refs = append(refs, ref{kind, key})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("backup: reading the target store: %w", err)
	}
	for len(refs) > 0 {
		n := min(size, len(refs))
		err := s.Update(ctx, func(_ context.Context, tx store.Tx) error {
			for _, r := range refs[:n] {
				if err := tx.Delete(r.kind, r.key); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("backup: clearing the target store: %w", err)
		}
		refs = refs[n:]
	}
	return nil
}

// placeFiles writes every key file to a temporary name with its mode, then
// renames them into place in dst.Files' order.
func placeFiles(dst Target, files map[string][]byte) error {
	if err := os.MkdirAll(dst.Dir, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmps := make([]string, len(dst.Files))
	defer func() {
		for _, t := range tmps {
			if t != "" {
				os.Remove(t)
			}
		}
	}()
	for i, f := range dst.Files {
		t, err := writeTemp(dst.Dir, f, files[f.Name])
		if err != nil {
			return fmt.Errorf("backup: writing %s: %w", f.Name, err)
		}
		tmps[i] = t
	}
	for i, f := range dst.Files {
		if err := os.Rename(tmps[i], filepath.Join(dst.Dir, f.Name)); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		tmps[i] = ""
	}
	return nil
}

func writeTemp(dir string, f File, data []byte) (string, error) {
	tf, err := os.CreateTemp(dir, "."+f.Name+".*.tmp")
	if err != nil {
		return "", err
	}
	_, err = tf.Write(data)
	if err == nil {
		// Chmod, not the umask, decides: the modes aksid gives its files.
		err = tf.Chmod(f.Mode.Perm())
	}
	if err == nil {
		err = tf.Sync()
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tf.Name())
		return "", err
	}
	return tf.Name(), nil
}
