package keyring

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpenAndPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file mode: %v %v", fi, err)
	}
	sealed, err := k1.Seal("signing-key", []byte("secret material"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret material")) {
		t.Fatal("plaintext visible in sealed data")
	}
	k2, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := k2.Open("signing-key", sealed)
	if err != nil || string(pt) != "secret material" {
		t.Fatalf("reopen: %q %v", pt, err)
	}
	if _, err := k2.Open("other-label", sealed); err == nil {
		t.Fatal("label not bound")
	}
	if !bytes.Equal(k1.Derive("x"), k2.Derive("x")) || bytes.Equal(k1.Derive("x"), k1.Derive("y")) {
		t.Fatal("derive not stable per label")
	}
	other, _ := Random()
	if _, err := other.Open("signing-key", sealed); err == nil {
		t.Fatal("another key opened the data")
	}
}
