//go:build cgo

package rsasign

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The OpenSSL backend builds on a machine with libcrypto but without
// OpenSSL's headers (Debian's libssl3 without libssl-dev): with every
// OpenSSL header shadowed by one that fails the build, this package
// still compiles.
func TestBuildsWithoutOpenSSLHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the OpenSSL binding's C code anew")
	}
	inc := filepath.Join(t.TempDir(), "openssl")
	if err := os.MkdirAll(inc, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"bn.h", "crypto.h", "core_names.h", "ec.h", "err.h", "evp.h", "hmac.h", "kdf.h",
		"md5.h", "obj_mac.h", "opensslv.h", "param_build.h", "provider.h", "rand.h", "rsa.h", "sha.h"} {
		if err := os.WriteFile(filepath.Join(inc, h), []byte("#error OpenSSL headers are not to be needed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "CGO_CFLAGS=-I"+filepath.Dir(inc))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build with OpenSSL's headers unusable: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "#error") {
		t.Fatalf("a shadowed header was read:\n%s", out)
	}
}
