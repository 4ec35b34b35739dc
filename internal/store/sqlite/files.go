package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// private makes the database file (created empty when missing) and the
// journals beside it readable by their owner only: they hold password
// and secret hashes. SQLite gives the -wal and -shm files it creates the
// database file's mode, so creating it 0600 first covers them too.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: open: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && st.Mode().Perm()&0o077 != 0 {
			err = os.Chmod(p, st.Mode().Perm()&0o700)
		}
		if err != nil {
			return fmt.Errorf("sqlite: making %s private: %w", p, err)
		}
	}
	return nil
}
