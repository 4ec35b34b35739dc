// Package app assembles aksid: the data directory, the store, the domains and the faces, for `serve` and the admin commands.
package app

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/aksid/aksid/internal/envvar"
	"github.com/aksid/aksid/internal/keyring"
)

// File names inside the data directory.
const (
	fileMaster = "master.key"
	fileDB     = "aksid.db"
	fileServer = "server.json"
	fileLock   = ".init.lock"
)

// DataDir is aksid's state directory.
type DataDir string

// DefaultDataDir is $AKSID_DATA_DIR, else ~/.aksid.
func DefaultDataDir() string {
	if d := os.Getenv(envvar.DataDir); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".aksid"
	}
	return filepath.Join(home, ".aksid")
}

// Path joins name onto the directory.
func (d DataDir) Path(name string) string { return filepath.Join(string(d), name) }

// secure creates the directory for its owner only, and takes group and
// others' access away from one that exists with it: it holds the master
// key and the database of password and secret hashes.
func (d DataDir) secure(log *slog.Logger) error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	st, err := os.Stat(string(d))
	if err != nil {
		return err
	}
	perm := st.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	// A shared directory (/tmp, someone else's) is not aksid's to close.
	if sys, ok := st.Sys().(*syscall.Stat_t); st.Mode()&os.ModeSticky != 0 || (ok && int(sys.Uid) != os.Geteuid()) {
		return fmt.Errorf("data directory %s is shared with other users (%v); give aksid a directory of its own (--data-dir)", d, st.Mode())
	}
	if err := os.Chmod(string(d), 0o700); err != nil {
		return fmt.Errorf("data directory %s is open to other users (%v) and cannot be made private: %w", d, perm, err)
	}
	log.Warn("data directory was open to other users; made it private", "dir", string(d), "was", perm.String(), "now", "drwx------")
	return nil
}

// withLock runs fn holding an exclusive lock on the directory, so two
// processes starting on one directory create its keys once.
func (d DataDir) withLock(fn func() error) error {
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(d.Path(fileLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	return fn()
}

// Keyring loads (or, under the lock, creates) the master key.
func (d DataDir) Keyring() (*keyring.Keyring, error) {
	var k *keyring.Keyring
	err := d.withLock(func() error {
		var err error
		k, err = keyring.LoadOrCreate(d.Path(fileMaster))
		return err
	})
	return k, err
}

// ExistingKeyring loads the master key without creating one.
func (d DataDir) ExistingKeyring() (*keyring.Keyring, error) {
	if _, err := os.Stat(d.Path(fileMaster)); err != nil {
		return nil, errors.New("no aksid data in " + string(d) + " (run `aksid serve` first)")
	}
	return keyring.LoadOrCreate(d.Path(fileMaster))
}

// ServerInfo is what a running server leaves in server.json.
type ServerInfo struct {
	URL  string `json:"url"`
	Addr string `json:"addr"`
	// HTTPProxy is the plain-HTTP proxy URL, when enabled.
	HTTPProxy string `json:"httpProxy,omitempty"`
	// AdminURL is the admin listener (metrics, probes), when enabled.
	AdminURL string `json:"adminUrl,omitempty"`
	PID      int    `json:"pid"`
	InMemory bool   `json:"inMemory"`
}

// WriteServerInfo records the running server (atomically, via rename).
func (d DataDir) WriteServerInfo(info ServerInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := d.Path(fileServer + ".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.Path(fileServer))
}

// RunningServer returns the server recorded in the directory if its
// process is still alive.
func (d DataDir) RunningServer() (ServerInfo, bool) {
	b, err := os.ReadFile(d.Path(fileServer))
	if err != nil {
		return ServerInfo{}, false
	}
	var info ServerInfo
	if json.Unmarshal(b, &info) != nil || info.PID <= 0 {
		return ServerInfo{}, false
	}
	if err := syscall.Kill(info.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return info, false
	}
	return info, true
}

// RemoveServerInfo forgets the server if the file still names pid.
func (d DataDir) RemoveServerInfo(pid int) {
	if info, _ := d.RunningServer(); info.PID == pid {
		_ = os.Remove(d.Path(fileServer))
	}
}

// adminToken authenticates the CLI to the server's admin endpoints; it is
// derived from the master key, so only whoever can read that file has it.
func adminToken(k *keyring.Keyring) string {
	return hex.EncodeToString(k.Derive("admin-token"))
}
