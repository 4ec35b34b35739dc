package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRestore: `aksid backup` of a serving aksid, restored into a
// fresh data directory (SQLite, PostgreSQL, and from PostgreSQL back to
// SQLite), gives an aksid with the same CA and signing keys, that verifies
// a token issued before the backup and takes a secret made before it; a
// restore over a store with documents, or into a directory aksid serves
// from, is refused.
func TestBackupRestore(t *testing.T) {
	ctx := t.Context()
	a := start(t, "")
	sp := a.createSP("backed-up")
	st, m := a.rawToken(sp.AppID, sp.Password, armScope)
	if st != 200 {
		t.Fatalf("token before the backup: %d %v", st, m)
	}
	before := m["access_token"].(string)
	keys := a.jwks(ctx)
	if !bytes.Contains(keys, []byte(`"kid"`)) {
		t.Fatalf("JWKS: %s", keys)
	}

	// Backed up while a serves.
	archive := filepath.Join(t.TempDir(), "aksid.backup")
	stderr := aksidStderr(t, 0, "backup", "--data-dir", a.dataDir, "--out", archive)
	if !strings.Contains(stderr, "master key") {
		t.Errorf("backup does not say the archive holds the master key: %q", stderr)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive: %v, %v; want mode 0600", fi, err)
	}

	check := func(in *instance) {
		t.Helper()
		if got := in.jwks(ctx); !bytes.Equal(got, keys) {
			t.Errorf("%s: the restored aksid publishes other keys:\n%s\nwant\n%s", in.dataDir, got, keys)
		}
		if err := verifyWithJWKS(t, in.jwks(ctx), before); err != nil {
			t.Errorf("%s: a token issued before the backup does not verify: %v", in.dataDir, err)
		}
		if st, m := in.rawToken(sp.AppID, sp.Password, armScope); st != 200 {
			t.Errorf("%s: the secret made before the backup: %d %v", in.dataDir, st, m)
		}
		if st, m := in.rawToken(sp.AppID, "wrong"+sp.Password, armScope); st != 401 || errorCode(m) != 7000215 {
			t.Errorf("%s: a wrong secret: %d %v", in.dataDir, st, m)
		}
		ca, _ := os.ReadFile(filepath.Join(a.dataDir, "ca.pem"))
		if got, err := os.ReadFile(filepath.Join(in.dataDir, "ca.pem")); err != nil || !bytes.Equal(got, ca) {
			t.Errorf("%s: the restored CA differs: %v", in.dataDir, err)
		}
	}

	dir := t.TempDir()
	aksidRun(t, "restore", "--data-dir", dir, "--in", archive)
	check(start(t, dir))

	// No restore into a directory aksid serves from.
	if msg := aksidStderr(t, 1, "restore", "--data-dir", dir, "--in", archive); !strings.Contains(msg, "serves from") {
		t.Errorf("restore over a serving directory: %q", msg)
	}

	// The same SQLite backup into PostgreSQL.
	url := postgresURL(t)
	pgDir := t.TempDir()
	aksidRun(t, "restore", "--data-dir", pgDir, "--store", url, "--in", archive)
	if msg := aksidStderr(t, 1, "restore", "--data-dir", t.TempDir(), "--store", url, "--in", archive); !strings.Contains(msg, "already holds aksid data") {
		t.Errorf("restore into a PostgreSQL store that holds documents: %q", msg)
	}
	c := start(t, pgDir, "--store", url)
	check(c)

	// And back: a backup of the PostgreSQL store (recorded in the data
	// directory), taken while c serves, into SQLite.
	archive2 := filepath.Join(t.TempDir(), "aksid.backup")
	aksidRun(t, "backup", "--data-dir", pgDir, "--out", archive2)
	back := t.TempDir()
	aksidRun(t, "restore", "--data-dir", back, "--in", archive2)
	check(start(t, back))
}

// aksidStderr runs an aksid command that must exit with code and returns
// its stderr.
func aksidStderr(t *testing.T, code int, args ...string) string {
	t.Helper()
	cmd := exec.Command(aksidBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run()
	if got := cmd.ProcessState.ExitCode(); got != code {
		t.Fatalf("aksid %s: exit code %d, want %d: %s", strings.Join(args, " "), got, code, stderr.String())
	}
	return stderr.String()
}
