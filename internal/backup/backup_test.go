package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/postgres"
	"github.com/aksid/aksid/internal/store/postgres/pgtest"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// files are the key files as aksid's data directory has them, in the
// order a restore puts them in place.
var files = []File{{"ca-key.sealed", 0o600}, {"ca.pem", 0o644}, {"master.key", 0o600}}

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

var pg struct {
	once sync.Once
	s    *pgtest.Server
	err  error
}

// indexedKind's documents are found by their value, through an index the
// stores build on write.
const indexedKind = "indexed"

func TestMain(m *testing.M) {
	store.DefineIndex(store.Index{Kind: indexedKind, Name: "value", Version: 1,
		Terms: func(_ string, v []byte) []string { return []string{string(v)} }})
	code := m.Run()
	if pg.s != nil {
		pg.s.Stop()
	}
	os.Exit(code)
}

func openSQLite(t *testing.T, dir string) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(dir, "aksid.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) store.Store {
	t.Helper()
	pg.once.Do(func() { pg.s, pg.err = pgtest.Start() })
	if pg.err != nil {
		t.Fatal(pg.err)
	}
	url, err := pg.s.NewDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// source makes a data directory with key files and a store with documents:
// several kinds, odd keys, more than a batch, a value larger than a chunk.
func source(t *testing.T, open func(t *testing.T, dir string) store.Store) Source {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), []byte("contents of "+f.Name+"\n"), f.Mode); err != nil {
			t.Fatal(err)
		}
	}
	s := open(t, dir)
	err := s.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
		for i := range 1234 {
			if err := tx.Put("directory_app", fmt.Sprintf("t/%05d", i), fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
				return err
			}
		}
		for key, value := range map[string][]byte{"": {}, "\xff\x00bin": {0, 1, 2, 0xff}, "big": bytes.Repeat([]byte("x"), chunkSize+1000), "a%_": []byte("like")} {
			if err := tx.Put("odd", key, value); err != nil {
				return err
			}
		}
		return tx.Put("aksid_meta", "key-check", []byte{9, 8, 7})
	})
	if err != nil {
		t.Fatal(err)
	}
	return Source{Dir: dir, Files: files, Store: s, StoreKind: "test", Now: now}
}

func documents(t *testing.T, s store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := store.Dump(t.Context(), s, func(kind, key string, value []byte) error {
		if !store.OwnKind(kind) {
			out[kind+"\x00"+key] = string(value)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameInstallation checks that dst holds src's documents and key files,
// with aksid's modes.
func sameInstallation(t *testing.T, src Source, dst Target) {
	t.Helper()
	want, got := documents(t, src.Store), documents(t, dst.Store)
	if len(got) != len(want) {
		t.Errorf("restored %d documents, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("document %q: restored %.40q, want %.40q", k, got[k], v)
		}
	}
	for _, f := range files {
		a, _ := os.ReadFile(filepath.Join(src.Dir, f.Name))
		b, err := os.ReadFile(filepath.Join(dst.Dir, f.Name))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: restored %q, %v; want %q", f.Name, b, err, a)
		}
		if st, err := os.Stat(filepath.Join(dst.Dir, f.Name)); err != nil || st.Mode().Perm() != f.Mode {
			t.Errorf("%s: mode %v, %v; want %v", f.Name, st.Mode().Perm(), err, f.Mode)
		}
	}
}

func backupTo(t *testing.T, src Source) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aksid.backup")
	sum, err := WriteFile(t.Context(), path, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Documents != 1239 || !sum.Created.Equal(now) || len(sum.Files) != len(files) {
		t.Fatalf("summary %+v", sum)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("the archive has mode %v, want 0600: it holds the master key", st.Mode().Perm())
	}
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp")); len(tmps) > 0 {
		t.Fatalf("temporary files left: %q", tmps)
	}
	return path
}

func restoreInto(t *testing.T, path string, dst Target, opt Options) {
	t.Helper()
	sum, err := RestoreFile(t.Context(), path, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Documents != 1239 || sum.Store != "test" {
		t.Fatalf("summary %+v", sum)
	}
}

func TestRoundTripSQLite(t *testing.T) {
	src := source(t, openSQLite)
	path := backupTo(t, src)
	dir := filepath.Join(t.TempDir(), "new")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	dst := Target{Dir: dir, Files: files, Store: openSQLite(t, dir)}
	restoreInto(t, path, dst, Options{BatchSize: 100})
	sameInstallation(t, src, dst)
}

// Across backends, both ways: SQLite to PostgreSQL, and PostgreSQL to
// SQLite.
func TestRoundTripAcrossBackends(t *testing.T) {
	src := source(t, openSQLite)
	pgDst := Target{Dir: t.TempDir(), Files: files, Store: openPostgres(t)}
	restoreInto(t, backupTo(t, src), pgDst, Options{})
	sameInstallation(t, src, pgDst)

	back := Source{Dir: pgDst.Dir, Files: files, Store: pgDst.Store, StoreKind: "test", Now: now}
	dir := t.TempDir()
	sqDst := Target{Dir: dir, Files: files, Store: openSQLite(t, dir)}
	restoreInto(t, backupTo(t, back), sqDst, Options{})
	sameInstallation(t, src, sqDst)
}

func TestRefusesNonEmptyTarget(t *testing.T) {
	src := source(t, openSQLite)
	path := backupTo(t, src)

	// A key file alone is enough to refuse.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte("other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := Target{Dir: dir, Files: files, Store: openSQLite(t, dir)}
	if _, err := RestoreFile(t.Context(), path, dst, Options{}); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "master.key") {
		t.Fatalf("restore over a master key: %v", err)
	}
	if len(documents(t, dst.Store)) != 0 {
		t.Fatal("a refused restore wrote documents")
	}

	// So is a document alone.
	dir = t.TempDir()
	dst = Target{Dir: dir, Files: files, Store: openSQLite(t, dir)}
	if err := dst.Store.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
		return tx.Put("stale", "k", []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := RestoreFile(t.Context(), path, dst, Options{}); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "documents") {
		t.Fatalf("restore over documents: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused restore wrote the master key: %v", err)
	}

	// Force replaces the target: the stale document is gone.
	restoreInto(t, path, dst, Options{Force: true})
	sameInstallation(t, src, dst)
}

func TestRefusesDamagedArchive(t *testing.T) {
	src := source(t, openSQLite)
	good, err := os.ReadFile(backupTo(t, src))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	// A whole gzip and tar stream, but without end.json.
	var noEnd bytes.Buffer
	gz := gzip.NewWriter(&noEnd)
	aw := &archiveWriter{tw: tar.NewWriter(gz), digest: sha256.New(), now: now}
	mb, _ := json.Marshal(manifest{Format: format, Version: version, Created: now, Files: []string{"ca-key.sealed", "ca.pem", "master.key"}})
	if err := errors.Join(aw.entry(entryMan, mb, false), aw.entry(dirFiles+"master.key", []byte("k"), true),
		aw.record("k", "v", []byte("x")), aw.flush(), aw.tw.Close(), gz.Close()); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"no end":         noEnd.Bytes(),
		"empty":          {},
		"not gzip":       []byte("hello, this is not an archive"),
		"cut in half":    good[:len(good)/2],
		"cut at 1 KiB":   good[:1024],
		"last 8 bytes":   good[:len(good)-8],
		"a byte flipped": flipped,
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.backup")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			dst := Target{Dir: dir, Files: files, Store: openSQLite(t, dir)}
			_, err := RestoreFile(t.Context(), path, dst, Options{})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "not a complete aksid backup") {
				t.Fatalf("restore of a damaged archive: %v", err)
			}
			t.Log(err)
			if n := len(documents(t, dst.Store)); n != 0 {
				t.Fatalf("a damaged archive wrote %d documents", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "master.key")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a damaged archive wrote the master key: %v", err)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	src := source(t, openSQLite)
	path := backupTo(t, src)
	if _, err := WriteFile(t.Context(), path, src, Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if _, err := WriteFile(t.Context(), path, src, Options{Force: true}); err != nil {
		t.Fatalf("backup over an existing file with Force: %v", err)
	}
	if err := os.Remove(filepath.Join(src.Dir, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "b")
	if _, err := WriteFile(t.Context(), other, src, Options{}); err == nil || !strings.Contains(err.Error(), "has no ca.pem") {
		t.Fatalf("backup without a CA: %v", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed backup left %s: %v", other, err)
	}
}

// A backup taken while another handle (another process) writes is one
// snapshot: a pair of documents always written together restores equal.
func TestBackupWhileWriting(t *testing.T) {
	src := source(t, openSQLite)
	writer := openSQLite(t, src.Dir)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			_ = writer.Update(ctx, func(_ context.Context, tx store.Tx) error {
				v := []byte(strconv.Itoa(i))
				if err := tx.Put("pair", "a", v); err != nil {
					return err
				}
				return tx.Put("pair", "b", v)
			})
		}
	})
	var archives [][]byte
	for range 3 {
		var buf bytes.Buffer
		if _, err := Write(t.Context(), &buf, src); err != nil {
			t.Fatal(err)
		}
		archives = append(archives, buf.Bytes())
	}
	cancel()
	wg.Wait()
	for i, a := range archives {
		pair := map[string]string{}
		if _, err := read(bytes.NewReader(a), files, visitor{doc: func(kind, key string, value []byte) error {
			if kind == "pair" {
				pair[key] = string(value)
			}
			return nil
		}}); err != nil {
			t.Fatal(err)
		}
		if pair["a"] != pair["b"] {
			t.Errorf("archive %d: pair/a = %q, pair/b = %q: not one snapshot", i, pair["a"], pair["b"])
		}
	}
}

// The archive carries documents only; the restore's writes rebuild the
// target's index terms, and --force's deletions remove the stale ones.
func TestRestoreRebuildsIndexes(t *testing.T) {
	src := source(t, openSQLite)
	if err := src.Store.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
		return errors.Join(tx.Put(indexedKind, "k1", []byte("red")), tx.Put(indexedKind, "k2", []byte("blue")), tx.Put(indexedKind, "k3", []byte("red")))
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "aksid.backup")
	if _, err := WriteFile(t.Context(), path, src, Options{}); err != nil {
		t.Fatal(err)
	}
	sqDir := t.TempDir()
	for name, dst := range map[string]Target{
		"sqlite":   {Dir: sqDir, Files: files, Store: openSQLite(t, sqDir)},
		"postgres": {Dir: t.TempDir(), Files: files, Store: openPostgres(t)},
	} {
		// A stale document the restore replaces.
		if err := dst.Store.Update(t.Context(), func(_ context.Context, tx store.Tx) error {
			return tx.Put(indexedKind, "stale", []byte("red"))
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := RestoreFile(t.Context(), path, dst, Options{Force: true}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var found []string
		if err := dst.Store.View(t.Context(), func(_ context.Context, tx store.Tx) error {
			hits, err := tx.Find(indexedKind, store.Query{Index: "value", Terms: []string{"red"}})
			for _, h := range hits {
				found = append(found, h.Key)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(found, ",") != "k1,k3" {
			t.Errorf("%s: found by the index after restore: %q, want k1,k3", name, found)
		}
	}
}
