package login

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/sts"
)

const testTenantID = "11111111-2222-3333-4444-555555555555"

// oneTenant resolves one tenant by GUID or domain; it issues nothing.
type oneTenant struct{}

func (oneTenant) Token(context.Context, *sts.TokenRequest) (*sts.TokenResponse, error) {
	return nil, sts.ErrMethod("GET")
}

func (oneTenant) ResolveTenant(_ context.Context, seg string) (directory.Tenant, error) {
	switch strings.ToLower(seg) {
	case "common", "organizations", "consumers", "adfs":
		return directory.Tenant{}, nil
	case testTenantID, "contoso.test":
		return directory.Tenant{ID: testTenantID, DisplayName: "Contoso", DefaultDomain: "contoso.test"}, nil
	}
	return directory.Tenant{}, sts.ErrMissingParam("tenant")
}

func discover(t *testing.T, o origin.Origin, path string) map[string]any {
	t.Helper()
	mux := http.NewServeMux()
	New(oneTenant{}, nil, nil).Register(mux)
	req := httptest.NewRequest("GET", path, nil)
	req = req.WithContext(origin.NewContext(req.Context(), o))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var doc map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	return doc
}

// TestV2DiscoveryNamesUserinfoAndKerberos: as Entra's, the v2 document
// names the userinfo endpoint (on Graph: Azure's through the proxy,
// aksid's own URL directly) and the tenant's kerberos endpoint on the
// login base asked.
func TestV2DiscoveryNamesUserinfoAndKerberos(t *testing.T) {
	const aksid = "https://127.0.0.1:8443"
	for _, tc := range []struct {
		name               string
		o                  origin.Origin
		path               string
		userinfo, kerberos string
	}{
		{"direct", origin.Direct(aksid, aksid), "/contoso.test/v2.0/.well-known/openid-configuration",
			aksid + "/oidc/userinfo", aksid + "/" + testTenantID + "/kerberos"},
		{"direct, organizations", origin.Direct("https://localhost:8443", aksid), "/organizations/v2.0/.well-known/openid-configuration",
			"https://localhost:8443/oidc/userinfo", "https://localhost:8443/organizations/kerberos"},
		{"direct, Azure issuers", origin.Direct(aksid, aksid), "/" + testTenantID + "/azure/v2.0/.well-known/openid-configuration",
			aksid + "/oidc/userinfo", aksid + "/" + testTenantID + "/kerberos"},
		{"through the proxy", origin.Proxied("login.microsoftonline.com", aksid), "/" + testTenantID + "/v2.0/.well-known/openid-configuration",
			"https://graph.microsoft.com/oidc/userinfo", "https://login.microsoftonline.com/" + testTenantID + "/kerberos"},
	} {
		doc := discover(t, tc.o, tc.path)
		if doc["userinfo_endpoint"] != tc.userinfo || doc["kerberos_endpoint"] != tc.kerberos {
			t.Errorf("%s: userinfo_endpoint %v, kerberos_endpoint %v", tc.name, doc["userinfo_endpoint"], doc["kerberos_endpoint"])
		}
	}
}
