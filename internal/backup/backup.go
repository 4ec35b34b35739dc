// Package backup writes a whole aksid installation (its data directory's key files and every document of its store) to one archive, and restores it.
package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// The archive is a gzipped tar whose entries come in this order:
//
//	manifest.json        format, version, creation time, source store, files
//	files/<name>         each key file of the data directory
//	documents/<n>        the store's documents, as length-prefixed records
//	end.json             the document count and a SHA-256 of all the above
//
// end.json comes last, so an archive cut short anywhere lacks it.
const (
	format       = "aksid-backup"
	version      = 1
	entryMan     = "manifest.json"
	entryEnd     = "end.json"
	dirFiles     = "files/"
	dirDocuments = "documents/"
	// chunkSize is about how many bytes of records one documents entry
	// holds: a tar entry needs its size up front, so records are
	// buffered this much at a time (one larger document makes its own).
	chunkSize = 4 << 20
)

// File is a file of the data directory that a backup carries, with the
// mode aksid gives it.
type File struct {
	Name string
	Mode fs.FileMode
}

// Source is what a backup reads.
type Source struct {
	Dir   string // the data directory
	Files []File // its key files, each required
	// Store is read in one snapshot through store.Dumper.
	Store store.Store
	// StoreKind names the store in the manifest ("sqlite", "postgres").
	StoreKind string
	Now       time.Time
}

// Summary describes an archive.
type Summary struct {
	Created   time.Time `json:"created"`
	Store     string    `json:"store"`
	Files     []string  `json:"files"`
	Documents int64     `json:"documents"`
}

type manifest struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Store   string    `json:"store"`
	Files   []string  `json:"files"`
}

type trailer struct {
	Documents int64  `json:"documents"`
	SHA256    string `json:"sha256"`
}

// Options change how an archive is written or restored.
type Options struct {
	// Force replaces what is there: an existing archive file when
	// writing; the target's key files and documents when restoring.
	Force bool
	// BatchSize is how many documents one restore transaction writes
	// (default 500).
	BatchSize int
}

// ErrExists is returned by WriteFile when the archive file exists and
// Options.Force is not set.
var ErrExists = errors.New("backup: the archive file exists")

// WriteFile writes the archive of src to path, readable by its owner only:
// it holds the master key. It writes a temporary file beside path and
// renames it, so path is either the whole archive or untouched.
func WriteFile(ctx context.Context, path string, src Source, opt Options) (Summary, error) {
	if _, err := os.Stat(path); err == nil && !opt.Force {
		return Summary{}, fmt.Errorf("%w: %s", ErrExists, path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, nothing is there to remove
	sum, err := Write(ctx, f, src)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("backup: writing %s: %w", path, err)
	}
	return sum, nil
}

// Write writes the archive of src to w: the key files, then every document
// of the store read in one snapshot, but for the store's own bookkeeping
// (store.OwnKind), which the target store keeps for itself.
func Write(ctx context.Context, w io.Writer, src Source) (Summary, error) {
	contents := make([][]byte, len(src.Files))
	names := make([]string, len(src.Files))
	for i, f := range src.Files {
		b, err := os.ReadFile(filepath.Join(src.Dir, f.Name))
		if errors.Is(err, fs.ErrNotExist) {
			return Summary{}, fmt.Errorf("backup: %s has no %s: is it aksid's data directory, and has `aksid serve` run there?", src.Dir, f.Name)
		}
		if err != nil {
			return Summary{}, fmt.Errorf("backup: %w", err)
		}
		contents[i], names[i] = b, f.Name
	}
	gz := gzip.NewWriter(w)
	aw := &archiveWriter{tw: tar.NewWriter(gz), digest: sha256.New(), now: src.Now}
	m := manifest{Format: format, Version: version, Created: src.Now.UTC(), Store: src.StoreKind, Files: names}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Summary{}, err
	}
	if err := aw.entry(entryMan, mb, false); err != nil {
		return Summary{}, err
	}
	for i, name := range names {
		if err := aw.entry(dirFiles+name, contents[i], true); err != nil {
			return Summary{}, err
		}
	}
	var n int64
	err = store.Dump(ctx, src.Store, func(kind, key string, value []byte) error {
		if store.OwnKind(kind) {
			return nil
		}
		n++
		return aw.record(kind, key, value)
	})
	if err != nil {
		return Summary{}, fmt.Errorf("backup: reading the store: %w", err)
	}
	if err := aw.flush(); err != nil {
		return Summary{}, err
	}
	tb, err := json.Marshal(trailer{Documents: n, SHA256: hex.EncodeToString(aw.digest.Sum(nil))})
	if err != nil {
		return Summary{}, err
	}
	if err := aw.entry(entryEnd, tb, false); err != nil {
		return Summary{}, err
	}
	if err := aw.tw.Close(); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return Summary{}, fmt.Errorf("backup: %w", err)
	}
	return Summary{Created: m.Created, Store: m.Store, Files: names, Documents: n}, nil
}

// archiveWriter writes the tar entries, buffering document records into
// chunks and hashing what end.json vouches for.
type archiveWriter struct {
	tw     *tar.Writer
	digest hash.Hash
	now    time.Time
	buf    bytes.Buffer
	chunks int
}

func (aw *archiveWriter) entry(name string, b []byte, hashed bool) error {
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: aw.now, Typeflag: tar.TypeReg}
	if err := aw.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := aw.tw.Write(b); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if hashed {
		aw.digest.Write(b)
	}
	return nil
}

// record appends one document: the lengths of kind, key and value as
// uvarints, each followed by its bytes.
func (aw *archiveWriter) record(kind, key string, value []byte) error {
	var n [binary.MaxVarintLen64]byte
	for _, part := range [][]byte{[]byte(kind), []byte(key), value} {
		aw.buf.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))])
		aw.buf.Write(part)
	}
	if aw.buf.Len() >= chunkSize {
		return aw.flush()
	}
	return nil
}

func (aw *archiveWriter) flush() error {
	if aw.buf.Len() == 0 {
		return nil
	}
	aw.chunks++
	err := aw.entry(fmt.Sprintf("%s%08d", dirDocuments, aw.chunks), aw.buf.Bytes(), true)
	aw.buf.Reset()
	return err
}
