package kassrc

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The embedded copies must match the module they stand for.
func TestFilesMatchModule(t *testing.T) {
	for name, b := range Files() {
		want, err := os.ReadFile(filepath.Join("..", "..", "..", "tools", "kube-apiserver", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s differs from tools/kube-apiserver/%s: run go generate ./internal/apiserver/kassrc", name, name)
		}
	}
}

func TestVersion(t *testing.T) {
	v, err := Version()
	if err != nil || v == "" || v[0] != 'v' {
		t.Fatalf("Version() = %q, %v", v, err)
	}
}
