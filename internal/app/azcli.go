package app

import (
	"encoding/json"
	"os"
	"path/filepath"
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
