package app

import (
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/admin"
)

// TestHostEnvSetsBothProxyCases: `aksid host env` replaces the lowercase
// http_proxy as well as HTTP_PROXY, or curl and Python (which prefer the
// lowercase one `aksid env` exported) would still speak for the default host.
func TestHostEnvSetsBothProxyCases(t *testing.T) {
	proxy := "http://myvm:s3cret@127.0.0.1:4567"
	out := IMDSEnvLines(admin.HostEnv{Name: "myvm", HTTPProxy: proxy})
	for _, want := range []string{"export HTTP_PROXY='" + proxy + "'\n", "export http_proxy='" + proxy + "'\n", "export AKSID_HOST='myvm'\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("host env lines lack %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "unset IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT MSI_SECRET\n") {
		t.Fatalf("host env lines do not unset App Service's variables:\n%s", out)
	}
}

// Both shells name the CA for every client family that reads its own
// variable: Go and OpenSSL, curl, Python's requests, Node.
func TestEnvTrustsTheCAForEveryClient(t *testing.T) {
	dd := DataDir(t.TempDir())
	if _, err := dd.Keyring(); err != nil {
		t.Fatal(err)
	}
	direct, err := dd.DirectEnv(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := dd.ProxyEnv(EnvOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"direct": direct, "proxy": proxy} {
		for _, v := range []string{"SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"} {
			if !strings.Contains(out, "export "+v+"='"+dd.Path("ca.pem")+"'\n") {
				t.Errorf("%s env lacks %s:\n%s", name, v, out)
			}
		}
	}
}
