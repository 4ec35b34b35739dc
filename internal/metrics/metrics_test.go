package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSigningBackend(t *testing.T) {
	r := New()
	r.SetSigningBackend("go", "crypto/rsa")
	r.SetSigningBackend("openssl", "OpenSSL 3.0.19")
	want := `# HELP aksid_token_signing_backend The RSA implementation that signs tokens (1 for the one in use), with its library.
# TYPE aksid_token_signing_backend gauge
aksid_token_signing_backend{backend="openssl",library="OpenSSL 3.0.19"} 1
`
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want), "aksid_token_signing_backend"); err != nil {
		t.Fatal(err)
	}
}
