package directory

import (
	"encoding/json"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// The properties Graph clients filter directory objects by are indexed in
// the store, so that a filter or a page reads what it returns and not the
// whole directory. A term is the tenant ID, a NUL, and the value in lower
// case (Entra compares directory strings case-insensitively), so one
// tenant's terms form one range and startswith is a range scan.

// Index names, as Graph names the properties.
const (
	ByID                    = "id"
	ByAppID                 = "appId"
	ByDisplayName           = "displayName"
	ByServicePrincipalNames = "servicePrincipalNames"
	ByIdentifierURIs        = "identifierUris"
	ByUserPrincipalName     = "userPrincipalName"
	ByMail                  = "mail"
	// byTenant lists the applications of one tenant, which are keyed by
	// appId alone.
	byTenant = "tenant"
	// byAppAnyTenant finds an application's principals in every tenant.
	byAppAnyTenant = "app"
)

// indexVersion changes whenever a Terms function below does.
const indexVersion = 1

func term(tenantID, value string) string {
	return tenantID + "\x00" + strings.ToLower(value)
}

func terms(tenantID string, values ...string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v != "" {
			out = append(out, term(tenantID, v))
		}
	}
	return out
}

// indexOn defines the index name on kind, its terms drawn from the
// document decoded as T.
func indexOn[T any](kind, name string, values func(T) (tenantID string, vs []string)) {
	store.DefineIndex(store.Index{Kind: kind, Name: name, Version: indexVersion, Terms: func(_ string, b []byte) []string {
		var v T
		if json.Unmarshal(b, &v) != nil {
			return nil
		}
		tenant, vs := values(v)
		return terms(tenant, vs...)
	}})
}

func one(tenant, v string) (string, []string) { return tenant, []string{v} }

func init() {
	indexOn(kindApp, byTenant, func(a Application) (string, []string) { return "", []string{a.TenantID} })
	indexOn(kindApp, ByID, func(a Application) (string, []string) { return one(a.TenantID, a.ObjectID) })
	indexOn(kindApp, ByAppID, func(a Application) (string, []string) { return one(a.TenantID, a.AppID) })
	indexOn(kindApp, ByDisplayName, func(a Application) (string, []string) { return one(a.TenantID, a.DisplayName) })
	indexOn(kindApp, ByIdentifierURIs, func(a Application) (string, []string) { return a.TenantID, a.IdentifierURIs })

	indexOn(kindSP, byAppAnyTenant, func(s ServicePrincipal) (string, []string) { return "", []string{s.AppID} })
	indexOn(kindSP, ByID, func(s ServicePrincipal) (string, []string) { return one(s.TenantID, s.ObjectID) })
	indexOn(kindSP, ByAppID, func(s ServicePrincipal) (string, []string) { return one(s.TenantID, s.AppID) })
	indexOn(kindSP, ByDisplayName, func(s ServicePrincipal) (string, []string) { return one(s.TenantID, s.DisplayName) })
	indexOn(kindSP, ByServicePrincipalNames, func(s ServicePrincipal) (string, []string) {
		return s.TenantID, s.ServicePrincipalNames
	})

	indexOn(kindUser, ByID, func(u User) (string, []string) { return one(u.TenantID, u.ObjectID) })
	indexOn(kindUser, ByDisplayName, func(u User) (string, []string) { return one(u.TenantID, u.DisplayName) })
	indexOn(kindUser, ByUserPrincipalName, func(u User) (string, []string) { return one(u.TenantID, u.UserPrincipalName) })
	indexOn(kindUser, ByMail, func(u User) (string, []string) { return one(u.TenantID, extraText(u.Extra, "mail")) })

	indexOn(kindGroup, ByID, func(g Group) (string, []string) { return one(g.TenantID, g.ObjectID) })
	indexOn(kindGroup, ByDisplayName, func(g Group) (string, []string) { return one(g.TenantID, g.DisplayName) })
}

// extraText reads a string property kept opaque in Extra.
func extraText(e Extra, name string) string {
	var s string
	_ = json.Unmarshal(e[name], &s)
	return s
}
