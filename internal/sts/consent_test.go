package sts

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/directory"
)

// consentEnv is a tenant with a user, an administrator, a public client
// that asks ARM's user_impersonation (its registration) and an API
// exposing a user scope and an admin scope.
type consentEnv struct {
	*testEnv
	user, admin directory.User
	client, api directory.Application
}

func newConsentEnv(t *testing.T) consentEnv {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	ce := consentEnv{testEnv: e}
	var err error
	for _, u := range []struct {
		p    *directory.User
		name string
	}{{&ce.user, "ada"}, {&ce.admin, "grace"}} {
		if *u.p, err = e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: u.name + "@" + testDomain, DisplayName: u.name, Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.dir.EnsureDirectoryRoleMember(ctx, testTenant, directory.GlobalAdministratorRole, ce.admin.ObjectID); err != nil {
		t.Fatal(err)
	}
	api, err := e.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "orders-api", IdentifierURIs: []string{"api://orders"},
		Extra: directory.Extra{"api": json.RawMessage(`{"oauth2PermissionScopes":[
			{"id":"5a1c0e8e-0000-4000-8000-000000000001","value":"Orders.Read","type":"User","userConsentDisplayName":"Read your orders","adminConsentDisplayName":"Read all orders","isEnabled":true},
			{"id":"5a1c0e8e-0000-4000-8000-000000000002","value":"Orders.Admin","type":"Admin","adminConsentDisplayName":"Manage orders","isEnabled":true}]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	ce.api = api.App
	client, err := e.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "orders-cli", PublicClient: true,
		Extra: directory.Extra{"publicClient": json.RawMessage(`{"redirectUris":["http://localhost"]}`),
			"requiredResourceAccess": json.RawMessage(`[{"resourceAppId":"` + directory.AzureServiceManagementApp + `","resourceAccess":[{"id":"41094075-9dad-400e-a0bd-54e686782033","type":"Scope"}]}]`)}})
	if err != nil {
		t.Fatal(err)
	}
	ce.client = client.App
	return ce
}

func (ce consentEnv) ropc(clientID string, u directory.User, scope string) (*TokenResponse, error) {
	return ce.svc.Token(context.Background(), ce.request(V2, testTenant, url.Values{"grant_type": {"password"}, "client_id": {clientID},
		"username": {u.UserPrincipalName}, "password": {"correct horse"}, "scope": {scope}}))
}

func (ce consentEnv) scp(resp *TokenResponse) string {
	return ce.claims(resp.AccessToken)["scp"].(string)
}

func TestTokensNeedConsent(t *testing.T) {
	ce := newConsentEnv(t)
	ctx := context.Background()
	arm := "https://management.azure.com/.default offline_access"

	// Microsoft's own client on Microsoft's resource: no grant needed.
	resp, err := ce.ropc(directory.AzureCLIApp, ce.user, arm)
	if err != nil || ce.scp(resp) != "user_impersonation" {
		t.Fatalf("az to ARM: %v", err)
	}
	// A tenant's own client: AADSTS65001 until an administrator consents.
	_, err = ce.ropc(ce.client.AppID, ce.user, arm)
	var se *Error
	if !errors.As(err, &se) || se.Code != 65001 || se.OAuth != "invalid_grant" || se.Suberror != "consent_required" {
		t.Fatalf("no consent: %v", err)
	}
	if err := ce.dir.AdminConsent(ctx, testTenant, ce.client.AppID); err != nil {
		t.Fatal(err)
	}
	resp, err = ce.ropc(ce.client.AppID, ce.user, arm)
	if err != nil || ce.scp(resp) != "user_impersonation" {
		t.Fatalf("after admin consent: %v", err)
	}
	rt := resp.RefreshToken

	// A scope nobody consented to is refused; consented ones make scp.
	orders := "api://orders/Orders.Read"
	if _, err := ce.ropc(ce.client.AppID, ce.user, orders); errCode(err) != 65001 {
		t.Fatalf("unconsented API: %v", err)
	}
	if err := ce.dir.GrantConsent(ctx, testTenant, ce.client.AppID, ce.api.AppID, ce.user.ObjectID, []string{"Orders.Read"}, false); err != nil {
		t.Fatal(err)
	}
	if resp, err = ce.ropc(ce.client.AppID, ce.user, orders); err != nil || ce.scp(resp) != "Orders.Read" {
		t.Fatalf("the user's own consent: %v", err)
	}
	if _, err := ce.ropc(ce.client.AppID, ce.admin, orders); errCode(err) != 65001 {
		t.Fatalf("one user's consent served another: %v", err)
	}
	if _, err := ce.ropc(ce.client.AppID, ce.user, "api://orders/Orders.Admin"); errCode(err) != 65001 {
		t.Fatalf("a scope beyond the grant: %v", err)
	}

	// The API's preauthorization needs no grant; its own client neither.
	var other directory.Application
	if reg, err := ce.dir.CreateApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "orders-web", PublicClient: true}); err != nil {
		t.Fatal(err)
	} else {
		other = reg.App
	}
	pre := json.RawMessage(`{"oauth2PermissionScopes":[{"id":"5a1c0e8e-0000-4000-8000-000000000001","value":"Orders.Read","type":"User","isEnabled":true}],
		"preAuthorizedApplications":[{"appId":"` + other.AppID + `","delegatedPermissionIds":["5a1c0e8e-0000-4000-8000-000000000001"]}]}`)
	if _, err := ce.dir.UpdateApplication(ctx, testTenant, ce.api.ObjectID, directory.ApplicationPatch{Extra: directory.Extra{"api": pre}}); err != nil {
		t.Fatal(err)
	}
	if resp, err = ce.ropc(other.AppID, ce.admin, "api://orders/.default"); err != nil || ce.scp(resp) != "Orders.Read" {
		t.Fatalf("preauthorized: %v", err)
	}

	// Consent withdrawn: the refresh token no longer works, and is kept.
	grants, err := ce.dir.PermissionGrants(ctx, testTenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grants {
		if g.ConsentType == directory.ConsentAllPrincipals {
			if err := ce.dir.DeletePermissionGrant(ctx, testTenant, g.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {ce.client.AppID}, "refresh_token": {rt}, "scope": {arm}}
	if _, err := ce.svc.Token(ctx, ce.request(V2, testTenant, refresh)); errCode(err) != 65001 {
		t.Fatalf("refresh after consent withdrawn: %v", err)
	}
	if n := countKind(t, ce.st, kindRefreshToken); n == 0 {
		t.Fatal("a refused refresh spent its token")
	}
}

func TestBrowserSignInAsksConsent(t *testing.T) {
	ce := newConsentEnv(t)
	ctx := context.Background()
	authz := AuthorizeRequest{TenantSeg: testTenant, Version: V2, ClientID: ce.client.AppID, ResponseType: "code",
		RedirectURI: "http://localhost:5000", Scope: "api://orders/Orders.Read openid"}

	// A user is asked for a user scope; declining ends the flow.
	_, err := ce.svc.Authorize(ctx, authz, ce.user.UserPrincipalName, "correct horse")
	var ask *ConsentRequired
	if !errors.As(err, &ask) || ask.Everyone || len(ask.Permissions) != 1 || ask.Permissions[0].Value != "Orders.Read" || ask.Client != "orders-cli" {
		t.Fatalf("first sign-in: %v %+v", err, ask)
	}
	if _, err := ce.svc.AuthorizeConsent(ctx, authz, ask.Flow, false, false); errCode(err) != 65004 {
		t.Fatalf("declined: %v", err)
	}
	if _, err := ce.svc.AuthorizeConsent(ctx, authz, ask.Flow, true, false); !errors.Is(err, ErrSignInExpired) {
		t.Fatalf("a spent consent flow worked again: %v", err)
	}
	// Accepted (asking for everyone is not the user's to give): a grant
	// for the user alone, and the code's token carries the scope.
	_, err = ce.svc.Authorize(ctx, authz, ce.user.UserPrincipalName, "correct horse")
	if !errors.As(err, &ask) {
		t.Fatalf("second sign-in: %v", err)
	}
	code, err := ce.svc.AuthorizeConsent(ctx, authz, ask.Flow, true, true)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ce.svc.Token(ctx, ce.request(V2, testTenant, url.Values{"grant_type": {"authorization_code"}, "client_id": {ce.client.AppID},
		"code": {code}, "redirect_uri": {authz.RedirectURI}}))
	if err != nil || ce.scp(resp) != "Orders.Read" {
		t.Fatalf("redeem: %v", err)
	}
	grants, _ := ce.dir.PermissionGrants(ctx, testTenant)
	if len(grants) != 1 || grants[0].ConsentType != directory.ConsentPrincipal || grants[0].PrincipalID != ce.user.ObjectID {
		t.Fatalf("grants after a user's consent: %+v", grants)
	}
	if _, err := ce.svc.Authorize(ctx, authz, ce.user.UserPrincipalName, "correct horse"); err != nil {
		t.Fatalf("asked again after consenting: %v", err)
	}
	forced := authz
	forced.Prompt = "consent"
	if _, err := ce.svc.Authorize(ctx, forced, ce.user.UserPrincipalName, "correct horse"); !errors.As(err, &ask) {
		t.Fatalf("prompt=consent after consenting: %v", err)
	}
	if _, err := ce.svc.AuthorizeConsent(ctx, forced, ask.Flow, true, false); err != nil {
		t.Fatalf("prompt=consent accepted: %v", err)
	}

	// An admin scope: a user cannot consent (AADSTS90094, shown on the
	// page); an administrator may, for everyone.
	authz.Scope = "api://orders/Orders.Admin"
	if _, err := ce.svc.Authorize(ctx, authz, ce.user.UserPrincipalName, "correct horse"); errCode(err) != 90094 {
		t.Fatalf("admin scope, user: %v", err)
	}
	_, err = ce.svc.Authorize(ctx, authz, ce.admin.UserPrincipalName, "correct horse")
	if !errors.As(err, &ask) || !ask.Everyone {
		t.Fatalf("admin scope, administrator: %v %+v", err, ask)
	}
	if _, err := ce.svc.AuthorizeConsent(ctx, authz, ask.Flow, true, true); err != nil {
		t.Fatal(err)
	}
	if _, err := ce.svc.Authorize(ctx, authz, ce.user.UserPrincipalName, "correct horse"); err != nil {
		t.Fatalf("the user after an administrator consented for everyone: %v", err)
	}

	// A client with no principal in the tenant yet: consent installs it.
	bare, err := ce.dir.RegisterApplication(ctx, testTenant, directory.ApplicationSpec{DisplayName: "bare-cli", PublicClient: true})
	if err != nil {
		t.Fatal(err)
	}
	bareAuthz := authz
	bareAuthz.ClientID, bareAuthz.Scope = bare.AppID, "api://orders/Orders.Read"
	if _, err = ce.svc.Authorize(ctx, bareAuthz, ce.user.UserPrincipalName, "correct horse"); !errors.As(err, &ask) {
		t.Fatalf("a client without a principal: %v", err)
	}
	if code, err = ce.svc.AuthorizeConsent(ctx, bareAuthz, ask.Flow, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := ce.svc.Token(ctx, ce.request(V2, testTenant, url.Values{"grant_type": {"authorization_code"}, "client_id": {bare.AppID},
		"code": {code}, "redirect_uri": {authz.RedirectURI}})); err != nil {
		t.Fatalf("redeem for the client consent installed: %v", err)
	}

	// A scope the API does not expose; an API the registration does not name.
	for _, tc := range []struct {
		scope string
		want  int
	}{{"api://orders/Orders.Nope", 650053}, {"https://graph.microsoft.com/.default", 650057}} {
		authz.Scope = tc.scope
		_, err := ce.svc.Authorize(ctx, authz, ce.admin.UserPrincipalName, "correct horse")
		if errCode(err) != tc.want || (tc.want == 650053 && !strings.Contains(err.Error(), "asked for scope 'Orders.Nope'")) {
			t.Fatalf("%s: %v, want AADSTS%d", tc.scope, err, tc.want)
		}
	}
}

func TestDeviceSignInAsksConsent(t *testing.T) {
	ce := newConsentEnv(t)
	ctx := context.Background()
	start := func() DeviceCode {
		dc, err := ce.svc.StartDeviceCode(ctx, testTenant, url.Values{"client_id": {ce.client.AppID}, "scope": {"https://management.azure.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		return dc
	}
	poll := func(dc DeviceCode) (*TokenResponse, error) {
		ce.wall.Add(2 * minPollGap)
		return ce.svc.Token(ctx, ce.request(V2, testTenant, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"client_id": {ce.client.AppID}, "device_code": {dc.DeviceCode}}))
	}
	dc := start()
	err := ce.svc.ApproveDeviceCode(ctx, dc.UserCode, ce.user.UserPrincipalName, "correct horse")
	var ask *ConsentRequired
	if !errors.As(err, &ask) || len(ask.Permissions) != 1 || ask.Permissions[0].Value != "user_impersonation" {
		t.Fatalf("sign-in: %v %+v", err, ask)
	}
	if _, err := poll(dc); errCode(err) != 70016 {
		t.Fatalf("a poll while the person reads the prompt: %v", err)
	}
	// The consent flow is not a second factor's, nor the other way round.
	if err := ce.svc.ApproveDeviceCodeSecondFactor(ctx, dc.UserCode, ask.Flow, "000000"); !errors.Is(err, ErrUnknownUserCode) {
		t.Fatalf("consent flow as a second factor: %v", err)
	}
	if err := ce.svc.ApproveDeviceCodeConsent(ctx, dc.UserCode, "not-the-flow", true, false); !errors.Is(err, ErrUnknownUserCode) {
		t.Fatalf("another flow token: %v", err)
	}
	if err := ce.svc.ApproveDeviceCodeConsent(ctx, dc.UserCode, ask.Flow, true, false); err != nil {
		t.Fatal(err)
	}
	resp, err := poll(dc)
	if err != nil || ce.scp(resp) != "user_impersonation" || ce.claims(resp.AccessToken)["oid"] != ce.user.ObjectID {
		t.Fatalf("tokens after consent: %v", err)
	}
	// Declined: the device is told.
	dc = start()
	if err := ce.svc.ApproveDeviceCode(ctx, dc.UserCode, ce.admin.UserPrincipalName, "correct horse"); !errors.As(err, &ask) || !ask.Everyone {
		t.Fatalf("administrator's sign-in: %v", err)
	}
	if err := ce.svc.ApproveDeviceCodeConsent(ctx, dc.UserCode, ask.Flow, false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := poll(dc); errCode(err) != 70023 {
		t.Fatalf("declined: %v", err)
	}
}
