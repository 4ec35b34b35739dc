package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aksid/aksid/internal/bootstrap"
)

// AzCloudName is the az cloud `aksid az-cloud` registers.
const AzCloudName = "aksid"

// AzCloudConfig is the az cloud definition for this aksid (compat/az.md
// recipe A): an ADFS-shaped authority, which az 2.45's MSAL accepts
// without instance discovery, and ARM and Graph on aksid's own URL.
func (dd DataDir) AzCloudConfig() ([]byte, error) {
	url := dd.url()
	cfg := map[string]any{
		"endpoints": map[string]string{
			"resourceManager":                url + "/",
			"management":                     "https://management.core.windows.net/",
			"activeDirectory":                url + "/adfs",
			"activeDirectoryResourceId":      "https://management.core.windows.net/",
			"activeDirectoryGraphResourceId": "https://graph.windows.net/",
			"microsoftGraphResourceId":       url + "/",
		},
		"suffixes": map[string]string{"acrLoginServerEndpoint": ".azurecr.io", "keyvaultDns": ".vault.azure.net"},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

func (dd DataDir) url() string {
	if info, ok := dd.RunningServer(); ok {
		return info.URL
	}
	return "https://127.0.0.1:8443"
}

// AzConfigDir makes (once) an az configuration directory owned by aksid,
// seeded so that az stays offline: no telemetry, no error
// recommendations, no dynamic extension installs, no version probe.
func (dd DataDir) AzConfigDir() (string, error) { return dd.azConfigDir("az") }

// azConfigDir seeds the named directory: "az" for custom-cloud mode (where
// `aksid az-cloud` selects the aksid cloud), "az-proxy" for proxy mode
// (az stays on AzureCloud).
func (dd DataDir) azConfigDir(name string) (string, error) {
	dir := dd.Path(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	config := "[core]\ncollect_telemetry = false\nerror_recommendation = off\nsurvey_message = false\nfirst_run = no\n\n[extension]\nuse_dynamic_install = no\n"
	if _, err := os.Stat(filepath.Join(dir, "config")); os.IsNotExist(err) {
		if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
			return "", err
		}
	}
	version := `{"versions": {"azure-cli": {"local": "2.45.0"}, "core": {"local": "2.45.0"}, "telemetry": {"local": "1.0.8"}}, "update_time": "2026-01-01 00:00:00.000000"}`
	if err := os.WriteFile(filepath.Join(dir, "versionCheck.json"), []byte(version), 0o600); err != nil {
		return "", err
	}
	return dir, nil
}

// DirectEnv is `aksid env --direct`: the variables az and SDKs need to
// reach aksid at its own URL (custom-cloud mode).
func (dd DataDir) DirectEnv() (string, error) {
	kr, err := dd.ExistingKeyring()
	if err != nil {
		return "", err
	}
	azDir, err := dd.AzConfigDir()
	if err != nil {
		return "", err
	}
	url := dd.url()
	c := bootstrap.CredentialsFor(kr)
	ca := dd.Path("ca.pem")
	return exportLines([][2]string{
		{"AZURE_TENANT_ID", c.TenantID},
		{"AZURE_CLIENT_ID", c.ClientID},
		{"AZURE_CLIENT_SECRET", c.ClientSecret},
		{"AZURE_AUTHORITY_HOST", url + "/"},
		{"AKSID_URL", url},
		{"AKSID_SUBSCRIPTION_ID", c.SubscriptionID},
		{"SSL_CERT_FILE", ca},
		{"REQUESTS_CA_BUNDLE", ca},
		{"AZURE_CONFIG_DIR", azDir},
		{"AZURE_CORE_COLLECT_TELEMETRY", "false"},
		{"AZURE_CORE_ERROR_RECOMMENDATION", "off"},
		{"AZURE_EXTENSION_USE_DYNAMIC_INSTALL", "no"},
		{"AZURE_CORE_SURVEY_MESSAGE", "false"},
	}), nil
}

func exportLines(lines [][2]string) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "export %s=%s\n", l[0], shellQuote(l[1]))
	}
	return b.String()
}

// ProxyEnv is `aksid env`: every client on the machine reaches aksid
// through its proxy while believing it talks to Azure. Its HTTP_PROXY
// names no host, so managed-identity clients speak for the default host
// (aksid-default-vm); `aksid host env NAME` makes a shell speak for another.
func (dd DataDir) ProxyEnv() (string, error) {
	kr, err := dd.ExistingKeyring()
	if err != nil {
		return "", err
	}
	azDir, err := dd.azConfigDir("az-proxy")
	if err != nil {
		return "", err
	}
	url := dd.url()
	httpProxy := url
	if info, ok := dd.RunningServer(); ok && info.HTTPProxy != "" {
		httpProxy = info.HTTPProxy
	}
	c := bootstrap.CredentialsFor(kr)
	ca := dd.Path("ca.pem")
	return exportLines([][2]string{
		{"HTTPS_PROXY", url},
		{"HTTP_PROXY", httpProxy},
		{"NO_PROXY", "127.0.0.1,localhost,::1"},
		{"REQUESTS_CA_BUNDLE", ca},
		{"SSL_CERT_FILE", ca},
		{"NODE_EXTRA_CA_CERTS", ca},
		{"AZURE_CONFIG_DIR", azDir},
		{"AZURE_CORE_COLLECT_TELEMETRY", "false"},
		{"AZURE_CORE_ERROR_RECOMMENDATION", "off"},
		{"AZURE_EXTENSION_USE_DYNAMIC_INSTALL", "no"},
		{"AZURE_CORE_SURVEY_MESSAGE", "false"},
		{"AZURE_TENANT_ID", c.TenantID},
		{"AZURE_CLIENT_ID", c.ClientID},
		{"AZURE_CLIENT_SECRET", c.ClientSecret},
		{"AKSID_URL", url},
		{"AKSID_SUBSCRIPTION_ID", c.SubscriptionID},
	}), nil
}
