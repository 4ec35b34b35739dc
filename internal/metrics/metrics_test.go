package metrics

import (
	"strconv"
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

// TestRequestCodes: requests carry their Azure error code as a label; the
// label takes only code-like values, and at most maxCodes of them.
func TestRequestCodes(t *testing.T) {
	r := New()
	r.Request("login", 401, "AADSTS7000215")
	r.Request("graph", 404, "Request_ResourceNotFound")
	r.Request("arm", 200, "")
	r.Request("imds", 400, "not a code: it has spaces")
	for i := range maxCodes + 10 {
		r.Request("arm", 400, "Code"+strconv.Itoa(i))
	}
	series := map[string]float64{}
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "aksid_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var key []string
			for _, l := range m.GetLabel() {
				key = append(key, l.GetName()+"="+l.GetValue())
			}
			series[strings.Join(key, ",")] = m.GetCounter().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"error_code=AADSTS7000215,face=login,status=401":            1,
		"error_code=Request_ResourceNotFound,face=graph,status=404": 1,
		"error_code=,face=arm,status=200":                           1,
		"error_code=other,face=imds,status=400":                     1,
		"error_code=other,face=arm,status=400":                      12, // the codes past the 256th (two came before the loop)
	} {
		if series[key] != want {
			t.Errorf("%s = %v, want %v", key, series[key], want)
		}
	}
	// The 256 codes, success, and "other" for imds and for arm.
	if n := len(series); n != maxCodes+3 {
		t.Errorf("%d series, want %d", n, maxCodes+3)
	}
}
