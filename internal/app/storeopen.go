package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/postgres"
	"github.com/aksid/aksid/internal/store/sqlite"
	"github.com/aksid/aksid/internal/sts"
)

// fileStoreURL records, in the data directory, the store a server was
// started on, so the CLI's offline commands use the same one. It may hold
// a password: it is written for the owner only, like the master key.
const fileStoreURL = "store-url"

// openStore opens the store a run uses: PostgreSQL when storeURL says so,
// else SQLite in the data directory (or in memory).
func openStore(ctx context.Context, dd DataDir, inMemory bool, storeURL string) (store.Store, error) {
	kind, err := storeKind(storeURL)
	if err != nil {
		return nil, err
	}
	switch {
	case kind == "postgres" && inMemory:
		return nil, errors.New("--in-memory and a PostgreSQL --store exclude each other")
	case kind == "postgres":
		if err := os.WriteFile(dd.Path(fileStoreURL), []byte(storeURL), 0o600); err != nil {
			return nil, err
		}
		return postgres.Open(ctx, storeURL)
	case inMemory:
		return sqlite.OpenMemory(ctx)
	}
	_ = os.Remove(dd.Path(fileStoreURL))
	return sqlite.Open(ctx, dd.Path(fileDB))
}

// recordedStore is the store the data directory's last server used.
func recordedStore(ctx context.Context, dd DataDir) (store.Store, error) {
	b, err := os.ReadFile(dd.Path(fileStoreURL))
	if errors.Is(err, os.ErrNotExist) {
		return sqlite.Open(ctx, dd.Path(fileDB))
	}
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, strings.TrimSpace(string(b)))
}

// storeKind is "postgres" or "sqlite" ("" means SQLite in the data
// directory).
func storeKind(storeURL string) (string, error) {
	if storeURL == "" {
		return "sqlite", nil
	}
	u, err := url.Parse(storeURL)
	if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return "postgres", nil
	}
	return "", fmt.Errorf("--store %q: want postgres://user@host:port/db (or nothing, for SQLite in the data directory)", redact(storeURL))
}

// redact hides a URL's password for messages and the banner.
func redact(storeURL string) string {
	u, err := url.Parse(storeURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// storeDescription names the store on the banner.
func storeDescription(dd DataDir, inMemory bool, storeURL string) string {
	switch {
	case storeURL != "":
		return "PostgreSQL " + redact(storeURL)
	case inMemory:
		return "SQLite in memory"
	}
	return "SQLite " + dd.Path(fileDB)
}

const (
	kindMeta      = "aksid_meta"
	keyCheckKey   = "key-check"
	keyCheckLabel = "store-key-check"
)

// checkStoreKey makes sure this process holds the master key the store's
// secrets are sealed with: the first start seals a random value, and every
// later one (another replica, a restored directory) must open it. A
// replica with another key would sign tokens nobody verifies and fail to
// open every sealed secret, so it refuses to start instead.
func checkStoreKey(ctx context.Context, st store.Store, seal sts.Sealer) error {
	// Read first: every start after the first writes nothing.
	var sealed []byte
	err := st.View(ctx, func(_ context.Context, tx store.Tx) error {
		var err error
		sealed, err = tx.Get(kindMeta, keyCheckKey)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		canary := make([]byte, 32)
		if _, err := rand.Read(canary); err != nil {
			return err
		}
		b, serr := seal.Seal(keyCheckLabel, canary)
		if serr != nil {
			return serr
		}
		err = st.Update(ctx, func(_ context.Context, tx store.Tx) error {
			sealed = b
			err := tx.Create(kindMeta, keyCheckKey, b)
			if errors.Is(err, store.ErrExists) {
				// Another replica's first start won the race.
				sealed, err = tx.Get(kindMeta, keyCheckKey)
			}
			return err
		})
	}
	if err != nil {
		return err
	}
	if _, err := seal.Open(keyCheckLabel, sealed); err != nil {
		return errors.New("the store was written with another master key than this data directory's: " +
			"give every replica the same master key (share the data directory, or copy its master key file), " +
			"or start on an empty store")
	}
	return nil
}
