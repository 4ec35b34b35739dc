package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aksid/aksid/internal/backup"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/pki"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/postgres"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// BackupFiles are the data directory's files a backup carries: the master
// key and the CA, with the modes aksid writes them, in the order a restore
// puts them in place. The master key comes last: a directory without it
// gets a new one at the next start, which then fails loudly on the
// restored CA key rather than quietly making a new CA. The database files,
// server.json, the lock, store-url and the clusters' kube/ directory are
// not carried.
func BackupFiles() []backup.File {
	return []backup.File{
		{Name: pki.CAKeyFile, Mode: 0o600},
		{Name: pki.CACertFile, Mode: 0o644},
		{Name: fileMaster, Mode: 0o600},
	}
}

// BackupSource opens what `aksid backup` reads: the key files and the
// store the directory's server uses (its recorded PostgreSQL URL, else
// SQLite in the directory), which may be serving meanwhile. Close
// Source.Store when done.
func (dd DataDir) BackupSource(ctx context.Context) (backup.Source, error) {
	if info, ok := dd.RunningServer(); ok && info.InMemory {
		return backup.Source{}, fmt.Errorf("aksid (pid %d) serves %s with its store in memory (--in-memory): there is no store to back up", info.PID, dd)
	}
	kr, err := dd.ExistingKeyring()
	if err != nil {
		return backup.Source{}, err
	}
	kind := "postgres"
	if _, err := os.Stat(dd.Path(fileStoreURL)); errors.Is(err, os.ErrNotExist) {
		kind = "sqlite"
		// Opening would create an empty database: say so instead.
		if _, err := os.Stat(dd.Path(fileDB)); err != nil {
			return backup.Source{}, fmt.Errorf("no store in %s (%s is missing) and no PostgreSQL store recorded", dd, fileDB)
		}
	}
	st, err := recordedStore(ctx, dd)
	if err != nil {
		return backup.Source{}, fmt.Errorf("store: %w", err)
	}
	// A store sealed under another key would restore into an aksid that
	// refuses to start: fail now, while the source can still be fixed.
	var sealed []byte
	err = st.View(ctx, func(_ context.Context, tx store.Tx) error {
		var err error
		sealed, err = tx.Get(kindMeta, keyCheckKey)
		return err
	})
	if err == nil {
		if _, oerr := kr.Open(keyCheckLabel, sealed); oerr != nil {
			err = fmt.Errorf("the store was written with another master key than %s's: a backup of both would not start", dd)
		}
	} else if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	if err != nil {
		st.Close()
		return backup.Source{}, fmt.Errorf("store: %w", err)
	}
	return backup.Source{Dir: string(dd), Files: BackupFiles(), Store: st, StoreKind: kind, Now: clock.Wall{}.Now()}, nil
}

// RestoreTarget opens what `aksid restore` writes: the directory (made
// private, created when missing) and the store storeURL names, PostgreSQL,
// or SQLite in the directory when it is empty. It refuses while a server
// runs on the directory. Close Target.Store when done, and RecordStore
// after a restore.
func (dd DataDir) RestoreTarget(ctx context.Context, storeURL string) (backup.Target, error) {
	if info, ok := dd.RunningServer(); ok {
		return backup.Target{}, fmt.Errorf("aksid (pid %d) serves from %s: stop it before restoring into that directory", info.PID, dd)
	}
	kind, err := storeKind(storeURL)
	if err != nil {
		return backup.Target{}, err
	}
	if err := dd.secure(slog.New(slog.DiscardHandler)); err != nil {
		return backup.Target{}, err
	}
	var st store.Store
	if kind == "postgres" {
		st, err = postgres.Open(ctx, storeURL)
	} else {
		st, err = sqlite.Open(ctx, dd.Path(fileDB))
	}
	if err != nil {
		return backup.Target{}, fmt.Errorf("store: %w", err)
	}
	return backup.Target{Dir: string(dd), Files: BackupFiles(), Store: st}, nil
}

// RecordStore records in the directory the store a restore wrote, as
// `aksid serve` does, so the offline commands find it: the PostgreSQL URL
// (0600, it may hold a password), or none for SQLite.
func (dd DataDir) RecordStore(storeURL string) error {
	if strings.TrimSpace(storeURL) == "" {
		if err := os.Remove(dd.Path(fileStoreURL)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return os.WriteFile(dd.Path(fileStoreURL), []byte(storeURL), 0o600)
}

// StoreDescription names the store storeURL selects for the directory,
// its password hidden.
func (dd DataDir) StoreDescription(storeURL string) string {
	return storeDescription(dd, false, storeURL)
}
