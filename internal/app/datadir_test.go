package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDataDirPrivate: started on a data directory others may read, aksid
// makes it 0700 and says so, and its secret files are 0600.
func TestDataDirPrivate(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	r, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("data directory is %v", st.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "made it private") {
		t.Errorf("tightening not logged:\n%s", logs.String())
	}
	for _, name := range []string{fileMaster, fileDB, fileDB + "-wal", fileDB + "-shm", fileServer} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v", name, st.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if st, _ := e.Info(); st != nil && st.Mode().Perm()&0o077 != 0 && !strings.HasSuffix(e.Name(), ".pem") {
			t.Errorf("%s is %v", e.Name(), st.Mode().Perm())
		}
	}
}

// A shared directory such as /tmp is refused, never closed to its users.
func TestDataDirSharedIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "give aksid a directory of its own") {
		t.Fatalf("start on a sticky shared directory: %v", err)
	}
	if st, _ := os.Stat(dir); st.Mode()&os.ModeSticky == 0 || st.Mode().Perm() != 0o777 {
		t.Errorf("the shared directory was changed to %v", st.Mode())
	}
}
