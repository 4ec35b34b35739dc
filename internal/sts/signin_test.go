package sts

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
)

const userPW = "Correct-horse-1"

func (e *testEnv) user(upn string) directory.User {
	e.t.Helper()
	u, err := e.dir.CreateUser(context.Background(), testTenant, directory.UserSpec{UserPrincipalName: upn + "@" + testDomain, DisplayName: upn, Password: userPW})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// ropc signs in with the password grant as the AKS client app does.
func (e *testEnv) ropc(u directory.User, pw string) (*TokenResponse, error) {
	return e.svc.Token(context.Background(), e.request(V2, "organizations", url.Values{"grant_type": {"password"},
		"client_id": {directory.AKSClientApp}, "username": {u.UserPrincipalName}, "password": {pw},
		"scope": {directory.AKSServerApp + "/.default openid offline_access"}}))
}

func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	if got := ErrorCode(err); got != code {
		t.Fatalf("%s: want AADSTS%d, got %v", what, code, err)
	}
}

func TestSmartLockoutCountsFailuresOnAksidClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("lee")

	// A success clears the count: 9 failures, a success, 9 more stay below the threshold.
	for range 9 {
		_, err := e.ropc(u, "wrong")
		wantCode(t, "failure below threshold", err, 50126)
	}
	if _, err := e.ropc(u, userPW); err != nil {
		t.Fatal(err)
	}
	for i := range LockoutThreshold {
		_, err := e.svc.VerifyUserPassword(ctx, testTenant, u.UserPrincipalName, "wrong")
		if i < LockoutThreshold-1 {
			wantCode(t, "failure below threshold after a reset", err, 50126)
		} else {
			wantCode(t, "the tenth failure", err, 50053)
		}
	}
	// Locked: the right password is refused too, on every path.
	_, err := e.ropc(u, userPW)
	wantCode(t, "right password while locked (ROPC)", err, 50053)
	dc, _ := e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {directory.AKSServerApp + "/.default"}})
	wantCode(t, "right password while locked (device page)", e.svc.ApproveDeviceCode(ctx, dc.UserCode, u.UserPrincipalName, userPW), 50053)

	// The lock lasts a minute of aksid's clock, not of the wall.
	e.wall.Add(2 * time.Minute)
	e.aksid.SetOffset(-2 * time.Minute)
	_, err = e.ropc(u, userPW)
	wantCode(t, "wall time moved, aksid's did not", err, 50053)
	e.aksid.SetOffset(-2*time.Minute + LockoutDuration + time.Second)
	// Past the threshold, each further failure locks again, for longer.
	_, err = e.ropc(u, "wrong")
	wantCode(t, "a failure past the threshold", err, 50053)
	e.aksid.SetOffset(e.aksid.Offset() + LockoutDuration + time.Second)
	_, err = e.ropc(u, userPW)
	wantCode(t, "second lockout is longer than the first", err, 50053)
	e.aksid.SetOffset(e.aksid.Offset() + LockoutDuration)
	if _, err := e.ropc(u, userPW); err != nil {
		t.Fatalf("after the second lockout: %v", err)
	}

	// An administrator's unlock ends a lock at once.
	for range LockoutThreshold {
		_, _ = e.ropc(u, "wrong")
	}
	_, err = e.ropc(u, userPW)
	wantCode(t, "locked again", err, 50053)
	if err := e.dir.ClearLockout(ctx, testTenant, u.ObjectID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ropc(u, userPW); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if l, _ := e.dir.UserLockout(ctx, testTenant, u.ObjectID); l.Failures != 0 || l.Lockouts != 0 {
		t.Fatalf("a success left the record %+v", l)
	}

	// Disabled accounts say so, on ROPC, the device page and refresh.
	resp, err := e.ropc(u, userPW)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := e.dir.UpdateUser(ctx, testTenant, u.ObjectID, directory.UserPatch{AccountEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	_, err = e.ropc(u, userPW)
	wantCode(t, "disabled (ROPC)", err, 50057)
	dc, _ = e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {directory.AKSServerApp + "/.default"}})
	wantCode(t, "disabled (device page)", e.svc.ApproveDeviceCode(ctx, dc.UserCode, u.UserPrincipalName, userPW), 50057)
	_, err = e.svc.Token(ctx, e.request(V2, "organizations", url.Values{"grant_type": {"refresh_token"},
		"client_id": {directory.AKSClientApp}, "refresh_token": {resp.RefreshToken}}))
	wantCode(t, "disabled (refresh)", err, 50057)
}

func TestMFAUserRefusedOnROPCAndVerifiedOnDevicePage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("mia")
	enrolled, err := e.dir.RequireMFA(ctx, testTenant, u.ObjectID)
	u, code := enrolled.User, enrolled.Code
	if err != nil || len(code) != 8 || u.MFACodeHash == "" || u.MFACodeHash == code {
		t.Fatalf("verification code %q hash %q: %v", code, u.MFACodeHash, err)
	}
	_, err = e.ropc(u, userPW)
	wantCode(t, "MFA user on ROPC", err, 50076)
	_, err = e.ropc(u, "wrong")
	wantCode(t, "MFA user, wrong password", err, 50126)

	scope := directory.AKSServerApp + "/.default openid offline_access"
	dc, _ := e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {scope}})
	err = e.svc.ApproveDeviceCode(ctx, dc.UserCode, u.UserPrincipalName, userPW)
	var second *SecondFactorRequired
	if !errors.As(err, &second) || second.Flow == "" {
		t.Fatalf("password alone on the device page: %v", err)
	}
	poll := func() (*TokenResponse, error) {
		return e.svc.Token(ctx, e.request(V2, "organizations", url.Values{"grant_type": {"device_code"},
			"client_id": {directory.AKSClientApp}, "device_code": {dc.DeviceCode}, "scope": {scope}}))
	}
	_, err = poll()
	wantCode(t, "after the password only", err, 70016)
	wantCode(t, "wrong verification code", e.svc.ApproveDeviceCodeSecondFactor(ctx, dc.UserCode, second.Flow, "00000000"), 500121)
	if err := e.svc.ApproveDeviceCodeSecondFactor(ctx, dc.UserCode, "forged-flow", code); !errors.Is(err, ErrUnknownUserCode) {
		t.Fatalf("a forged flow token was accepted: %v", err)
	}
	if err := e.svc.ApproveDeviceCodeSecondFactor(ctx, dc.UserCode, second.Flow, code); err != nil {
		t.Fatal(err)
	}
	resp, err := poll()
	if err != nil {
		t.Fatal(err)
	}
	amr, _ := e.claims(resp.AccessToken)["amr"].([]any)
	if !slices.Equal(amr, []any{"pwd", "mfa"}) {
		t.Fatalf("amr %v", amr)
	}
	// The amr survives the refresh.
	resp, err = e.svc.Token(ctx, e.request(V2, "organizations", url.Values{"grant_type": {"refresh_token"},
		"client_id": {directory.AKSClientApp}, "refresh_token": {resp.RefreshToken}}))
	if err != nil {
		t.Fatal(err)
	}
	if amr, _ := e.claims(resp.AccessToken)["amr"].([]any); !slices.Equal(amr, []any{"pwd", "mfa"}) {
		t.Fatalf("amr after refresh %v", amr)
	}
	// Wrong codes count toward the lockout.
	for range LockoutThreshold {
		_ = e.svc.VerifySecondFactor(ctx, u, "11111111")
	}
	wantCode(t, "right code while locked", e.svc.VerifySecondFactor(ctx, u, code), 50053)
}

func TestConditionalAccessBlocksDeviceCodeForChosenUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	blocked, free := e.user("bo"), e.user("fay")
	scope := directory.AKSServerApp + "/.default"
	device := func(u directory.User) (error, error) {
		dc, err := e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {scope}})
		if err != nil {
			t.Fatal(err)
		}
		page := e.svc.ApproveDeviceCode(ctx, dc.UserCode, u.UserPrincipalName, userPW)
		_, poll := e.svc.Token(ctx, e.request(V2, "organizations", url.Values{"grant_type": {"device_code"},
			"client_id": {directory.AKSClientApp}, "device_code": {dc.DeviceCode}, "scope": {scope}}))
		return page, poll
	}
	p, err := e.dir.CreatePolicy(ctx, testTenant, directory.PolicySpec{Control: directory.ControlBlockDeviceCode, Users: []string{blocked.UserPrincipalName}})
	if err != nil || !slices.Equal(p.Users, []string{blocked.ObjectID}) {
		t.Fatalf("policy %+v %v", p, err)
	}
	page, poll := device(blocked)
	wantCode(t, "blocked user on the page", page, 53003)
	wantCode(t, "blocked user's device polling", poll, 53003)
	if se := (*Error)(nil); !errors.As(poll, &se) || se.OAuth != "interaction_required" {
		t.Fatalf("oauth error %v", poll)
	}
	wantCode(t, "a wrong password is still a wrong password", func() error {
		dc, _ := e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {scope}})
		return e.svc.ApproveDeviceCode(ctx, dc.UserCode, blocked.UserPrincipalName, "wrong")
	}(), 50126)
	if page, poll := device(free); page != nil || poll != nil {
		t.Fatalf("a user the policy does not name: %v %v", page, poll)
	}
	if _, err := e.ropc(blocked, userPW); err != nil {
		t.Fatalf("ROPC is not the device-code flow: %v", err)
	}

	all, err := e.dir.CreatePolicy(ctx, testTenant, directory.PolicySpec{Control: directory.ControlBlockDeviceCode, AllUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = device(free)
	wantCode(t, "policy for all users", page, 53003)
	for _, id := range []string{all.ID, p.ID} {
		if err := e.dir.DeletePolicy(ctx, testTenant, id); err != nil {
			t.Fatal(err)
		}
	}
	if page, poll := device(blocked); page != nil || poll != nil {
		t.Fatalf("after the policies were deleted: %v %v", page, poll)
	}
	if _, err := e.dir.CreatePolicy(ctx, testTenant, directory.PolicySpec{Control: directory.ControlBlockDeviceCode}); !errors.Is(err, directory.ErrInvalidArgument) {
		t.Fatalf("a policy naming nobody: %v", err)
	}
}

func TestBrowserSignInSharesLockoutAndAsksSecondFactor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("bea")
	scope := directory.AKSServerApp + "/.default openid"
	authz := AuthorizeRequest{TenantSeg: testTenant, Version: V2, ClientID: directory.AKSClientApp, ResponseType: "code",
		RedirectURI: "http://localhost:38123", Scope: scope, CodeChallenge: "plain-challenge-plain-challenge-plain-challenge-00"}
	redeem := func(code string) (*TokenResponse, error) {
		return e.svc.Token(ctx, e.request(V2, testTenant, url.Values{"grant_type": {"authorization_code"}, "client_id": {directory.AKSClientApp},
			"code": {code}, "code_verifier": {authz.CodeChallenge}, "redirect_uri": {authz.RedirectURI}, "scope": {scope}}))
	}

	// Failures on the browser page and on ROPC feed one counter.
	for range LockoutThreshold - 1 {
		_, err := e.svc.Authorize(ctx, authz, u.UserPrincipalName, "wrong")
		wantCode(t, "browser failure", err, 50126)
	}
	_, err := e.ropc(u, "wrong")
	wantCode(t, "the tenth failure, by ROPC", err, 50053)
	_, err = e.svc.Authorize(ctx, authz, u.UserPrincipalName, userPW)
	wantCode(t, "right password on the browser page while locked", err, 50053)
	if err := e.dir.ClearLockout(ctx, testTenant, u.ObjectID); err != nil {
		t.Fatal(err)
	}

	// An MFA user gives the code after the password; the token says so.
	enrolled, err := e.dir.RequireMFA(ctx, testTenant, u.ObjectID)
	u, vcode := enrolled.User, enrolled.Code
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authorize(ctx, authz, u.UserPrincipalName, userPW)
	var second *SecondFactorRequired
	if !errors.As(err, &second) {
		t.Fatalf("password alone for an MFA user: %v", err)
	}
	_, err = e.svc.AuthorizeSecondFactor(ctx, authz, second.Flow, "1234567")
	wantCode(t, "wrong verification code", err, 500121)
	other := authz
	other.ClientID = e.app.AppID
	if _, err := e.svc.AuthorizeSecondFactor(ctx, other, second.Flow, vcode); err == nil {
		t.Fatal("a flow was completed for another client")
	}
	code, err := e.svc.AuthorizeSecondFactor(ctx, authz, second.Flow, vcode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthorizeSecondFactor(ctx, authz, second.Flow, vcode); !errors.Is(err, ErrSignInExpired) {
		t.Fatalf("a flow was used twice: %v", err)
	}
	resp, err := redeem(code)
	if err != nil {
		t.Fatal(err)
	}
	if amr, _ := e.claims(resp.AccessToken)["amr"].([]any); !slices.Equal(amr, []any{"pwd", "mfa"}) {
		t.Fatalf("amr %v", amr)
	}
	// A flow lasts ten minutes of aksid's clock.
	_, err = e.svc.Authorize(ctx, authz, u.UserPrincipalName, userPW)
	if !errors.As(err, &second) {
		t.Fatal(err)
	}
	e.aksid.SetOffset(e.aksid.Offset() + 11*time.Minute)
	if _, err := e.svc.AuthorizeSecondFactor(ctx, authz, second.Flow, vcode); !errors.Is(err, ErrSignInExpired) {
		t.Fatalf("an expired flow: %v", err)
	}
}

func TestGroupOverageClaimsPointAtAnsweringGraph(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user("gus")
	for i := range 201 {
		g, err := e.dir.CreateGroup(ctx, testTenant, directory.GroupSpec{DisplayName: "g", MailNickname: "g", SecurityEnabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.dir.AddMember(ctx, testTenant, g.ObjectID, u.ObjectID); err != nil {
			t.Fatal(err)
		}
		if i == 199 { // exactly 200: still in the token
			resp, err := e.ropc(u, userPW)
			if err != nil {
				t.Fatal(err)
			}
			if gs, _ := e.claims(resp.AccessToken)["groups"].([]any); len(gs) != 200 {
				t.Fatalf("200 groups: %d in the token", len(gs))
			}
		}
	}
	for _, tc := range []struct {
		iss  origin.Issuers
		want string
	}{
		{origin.Issuers{V1Base: testBase, V2Base: testBase}, testBase + "/v1.0/users/" + u.ObjectID + "/getMemberObjects"},
		{origin.Azure(), "https://graph.microsoft.com/v1.0/users/" + u.ObjectID + "/getMemberObjects"},
	} {
		req := e.request(V2, "organizations", url.Values{"grant_type": {"password"}, "client_id": {directory.AKSClientApp},
			"username": {u.UserPrincipalName}, "password": {userPW}, "scope": {directory.AKSServerApp + "/.default"}})
		req.Issuers = tc.iss
		resp, err := e.svc.Token(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		c := e.claims(resp.AccessToken)
		names, _ := c["_claim_names"].(map[string]any)
		src, _ := c["_claim_sources"].(map[string]any)["src1"].(map[string]any)
		if _, has := c["groups"]; has || names["groups"] != "src1" || src["endpoint"] != tc.want {
			t.Fatalf("201 groups via %s: groups=%v names=%v src=%v", tc.iss.V2Base, c["groups"], names, src)
		}
	}
}
