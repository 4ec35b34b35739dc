package aks

import "testing"

// TestIssuerByDefaultFrom134: a new cluster's OIDC issuer is on unless the
// request says otherwise, from Kubernetes 1.34, as AKS does; before it,
// and when the request turns it off, nothing is added.
func TestIssuerByDefaultFrom134(t *testing.T) {
	for _, c := range []struct {
		version string
		profile map[string]any
		want    any // the profile's enabled afterwards; nil when unset
	}{
		{"1.34.4", nil, true},
		{"1.35.0", map[string]any{}, true},
		{"1.33.7", nil, nil},
		{"", nil, nil},
		{"1.34.4", map[string]any{"enabled": false}, false},
		{"1.33.7", map[string]any{"enabled": true}, true},
	} {
		props := map[string]any{}
		if c.profile != nil {
			props["oidcIssuerProfile"] = c.profile
		}
		defaultOIDC(props, c.version)
		if got := obj(props, "oidcIssuerProfile")["enabled"]; got != c.want {
			t.Errorf("version %q, asked %v: enabled %v, want %v", c.version, c.profile, got, c.want)
		}
	}
}
