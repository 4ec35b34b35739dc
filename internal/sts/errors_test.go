package sts

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/aksid/aksid/internal/directory"
)

func TestRefusalsCarryEntraCodes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, _ := e.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "public", PublicClient: true})
	pub := reg.SP
	scope := directory.AKSServerApp + "/.default"
	with := func(f url.Values, kv ...string) url.Values {
		g := url.Values{}
		for k, v := range f {
			g[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				g.Del(kv[i])
			} else {
				g.Set(kv[i], kv[i+1])
			}
		}
		return g
	}
	ok := e.secretForm(scope, V2)
	cases := []struct {
		name   string
		v      Version
		tenant string
		form   url.Values
		oauth  string
		code   int
	}{
		{"unknown tenant", V2, "99999999-2222-3333-4444-555555555555", ok, "invalid_tenant", 90002},
		{"unknown tenant domain", V2, "nowhere.example", ok, "invalid_tenant", 90002},
		{"common tenant for an app token", V2, "common", ok, "invalid_request", 50059},
		{"organizations tenant v1", V1, "organizations", e.secretForm(directory.AKSServerApp, V1), "invalid_request", 50059},
		{"unknown client", V2, testTenant, with(ok, "client_id", "0b0b0b0b-2222-3333-4444-555555555555"), "unauthorized_client", 700016},
		{"malformed client id", V2, testTenant, with(ok, "client_id", "not-a-guid"), "unauthorized_client", 700038},
		{"nil client id", V2, testTenant, with(ok, "client_id", "00000000-0000-0000-0000-000000000000"), "unauthorized_client", 700038},
		{"wrong secret", V2, testTenant, with(ok, "client_secret", "abc8Q~wrong"), "invalid_client", 7000215},
		{"no credential", V2, testTenant, with(ok, "client_secret", ""), "invalid_client", 7000218},
		{"public client with secret", V2, testTenant, with(ok, "client_id", pub.AppID), "invalid_client", 700025},
		{"unknown resource", V2, testTenant, with(ok, "scope", "https://nothing.example/.default"), "invalid_resource", 500011},
		{"unknown resource v1", V1, testTenant, with(e.secretForm("api://missing", V1)), "invalid_resource", 500011},
		{"scope without .default", V2, testTenant, with(ok, "scope", "https://graph.microsoft.com/User.Read"), "invalid_scope", 1002012},
		{"two resources", V2, testTenant, with(ok, "scope", scope+" https://graph.microsoft.com/.default"), "invalid_scope", 70011},
		{"only oidc scopes", V2, testTenant, with(ok, "scope", "openid profile"), "invalid_scope", 70011},
		{"missing scope", V2, testTenant, with(ok, "scope", ""), "invalid_request", 900144},
		{"missing resource v1", V1, testTenant, with(e.secretForm("x", V1), "resource", ""), "invalid_request", 900144},
		{"missing grant", V2, testTenant, with(ok, "grant_type", ""), "invalid_request", 900144},
		{"unsupported grant", V2, testTenant, with(ok, "grant_type", "urn:ietf:params:oauth:grant-type:saml2-bearer"), "unsupported_grant_type", 70003},
		{"missing client id", V2, testTenant, with(ok, "client_id", ""), "invalid_request", 900144},
		{"bad assertion type", V2, testTenant, with(ok, "client_secret", "", "client_assertion", "x.y.z", "client_assertion_type", "urn:nope"), "invalid_request", 700026},
		{"malformed assertion", V2, testTenant, with(ok, "client_secret", "", "client_assertion", "not-a-jwt", "client_assertion_type", jwtBearerAssertion), "invalid_request", 50027},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := countKind(t, e.st, "app")
			_, err := e.svc.Token(ctx, e.request(c.v, c.tenant, c.form))
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want AADSTS%d", err, c.code)
			}
			if se.Code != c.code || se.OAuth != c.oauth {
				t.Fatalf("got %s AADSTS%d (%s), want %s AADSTS%d", se.OAuth, se.Code, se.Description, c.oauth, c.code)
			}
			if after := countKind(t, e.st, "app"); after != before || countKind(t, e.st, kindAssertionJTI) != 0 {
				t.Fatal("a refused request changed the store")
			}
		})
	}
}
