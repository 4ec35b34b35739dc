package arm

import (
	"net/http"

	"github.com/aksid/aksid/internal/origin"
)

// metadata serves /metadata/endpoints: the object form az's `cloud
// register --endpoint-resource-manager` reads (api-version 2015-01-01) and
// the array form of ARM_CLOUD_METADATA_URL (2019-05-01 and later). It
// needs no token, as in Azure.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request, o origin.Origin) {
	base := o.Base + "/"
	audiences := []string{"https://management.core.windows.net/", "https://management.azure.com/"}
	if r.URL.Query().Get("api-version") == "2015-01-01" || r.URL.Query().Get("api-version") == "" {
		writeJSON(w, http.StatusOK, map[string]any{
			"galleryEndpoint": "", "graphEndpoint": "https://graph.windows.net/", "portalEndpoint": "",
			"authentication": map[string]any{"loginEndpoint": base, "audiences": audiences},
		})
		return
	}
	writeJSON(w, http.StatusOK, []any{map[string]any{
		"name": "aksid", "portal": "", "resourceManager": base, "sqlManagement": "", "gallery": "",
		"authentication": map[string]any{"loginEndpoint": base, "audiences": audiences, "tenant": "common", "identityProvider": "AAD"},
		"media":          "", "graphAudience": "https://graph.windows.net/", "graph": "https://graph.windows.net/",
		"microsoftGraphResourceId": base,
		"suffixes":                 map[string]any{"acrLoginServer": "azurecr.io", "keyVaultDns": "vault.azure.net", "storage": "core.windows.net", "sqlServerHostname": "database.windows.net"},
	}})
}
