package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"testing"
	"time"
)

// TestAksidRunAndPlainProxy: `aksid run` gives a command the proxy
// environment (curl reaches login.microsoftonline.com through aksid), and
// the plain-HTTP port tunnels too, for clients that only speak http:// proxies.
func TestAksidRunAndPlainProxy(t *testing.T) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	ca := in.env["SSL_CERT_FILE"]
	out, err := exec.Command(aksidBin, "run", "--data-dir", in.dataDir, "--", "curl", "-sf", "--cacert", ca, "--proxy-cacert", ca,
		"https://login.microsoftonline.com/"+tid+"/v2.0/.well-known/openid-configuration").Output()
	if err != nil {
		t.Fatalf("aksid run curl: %v", err)
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || doc.Issuer != "https://login.microsoftonline.com/"+tid+"/v2.0" ||
		doc.TokenEndpoint != "https://login.microsoftonline.com/"+tid+"/oauth2/v2.0/token" {
		t.Fatalf("discovery through the proxy: %s %v", out, err)
	}
	if code, err := exec.Command(aksidBin, "run", "--data-dir", in.dataDir, "--", "sh", "-c", "exit 7").Output(); err == nil {
		t.Fatalf("aksid run hid the exit code: %s", code)
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("aksid run exit code: %v", err)
	}

	plain, _ := url.Parse(in.httpProxy(t))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(plain), TLSClientConfig: in.client.Transport.(*http.Transport).TLSClientConfig}}
	resp, err := hc.Get("https://sts.windows.net/" + tid + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v1 struct{ Issuer string }
	if err := json.NewDecoder(resp.Body).Decode(&v1); err != nil || v1.Issuer != "https://sts.windows.net/"+tid+"/" {
		t.Fatalf("v1 discovery through the plain port: %d %v %v", resp.StatusCode, v1, err)
	}
}
