package sts

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
)

func TestDeviceCodeFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "ada@" + testDomain, DisplayName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	scope := directory.AKSServerApp + "/.default offline_access openid profile"
	start := func() DeviceCode {
		dc, err := e.svc.StartDeviceCode(ctx, "organizations", url.Values{"client_id": {directory.AKSClientApp}, "scope": {scope}})
		if err != nil {
			t.Fatal(err)
		}
		return dc
	}
	poll := func(dc DeviceCode, grant string) (*TokenResponse, error) {
		return e.svc.Token(ctx, e.request(V2, "organizations", url.Values{"grant_type": {grant}, "client_id": {directory.AKSClientApp},
			"device_code": {dc.DeviceCode}, "client_info": {"1"}, "scope": {scope}}))
	}
	code := func(err error) int {
		var se *Error
		if errors.As(err, &se) {
			return se.Code
		}
		return 0
	}
	dc := start()
	if len(dc.UserCode) != 9 || dc.ExpiresIn != 900 || dc.Interval != 5 {
		t.Fatalf("device code %+v", dc)
	}
	if _, err := poll(dc, "device_code"); code(err) != 70016 {
		t.Fatalf("before sign-in: %v", err)
	}
	if err := e.svc.ApproveDeviceCode(ctx, dc.UserCode, user.UserPrincipalName, "wrong"); code(err) != 50126 {
		t.Fatalf("wrong password on the page: %v", err)
	}
	if _, err := poll(dc, "device_code"); code(err) != 70016 {
		t.Fatalf("a wrong password approved the device: %v", err)
	}
	if err := e.svc.ApproveDeviceCode(ctx, dc.UserCode, user.UserPrincipalName, "correct horse"); err != nil {
		t.Fatal(err)
	}
	resp, err := poll(dc, "urn:ietf:params:oauth:grant-type:device_code")
	if err != nil || resp.RefreshToken == "" || resp.IDToken == "" || resp.ClientInfo == "" {
		t.Fatalf("after sign-in: %+v %v", resp, err)
	}
	if c := e.claims(resp.AccessToken); c["oid"] != user.ObjectID || c["upn"] != user.UserPrincipalName || c["tid"] != testTenant {
		t.Fatalf("claims %v", c)
	}
	if _, err := poll(dc, "device_code"); code(err) != 70019 {
		t.Fatalf("a spent device code worked again: %v", err)
	}
	if _, err := e.svc.LookupUserCode(ctx, dc.UserCode); !errors.Is(err, ErrUnknownUserCode) {
		t.Fatalf("a spent user code is still offered: %v", err)
	}

	declined := start()
	if err := e.svc.DeclineDeviceCode(ctx, declined.UserCode, user.UserPrincipalName, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if _, err := poll(declined, "device_code"); code(err) != 70023 {
		t.Fatalf("declined: %v", err)
	}

	late := start()
	e.aksid.SetOffset(16 * time.Minute)
	if _, err := poll(late, "device_code"); code(err) != 70020 {
		t.Fatalf("expired: %v", err)
	}
	if _, err := e.svc.LookupUserCode(ctx, late.UserCode); !errors.Is(err, ErrUnknownUserCode) {
		t.Fatalf("an expired code is still offered: %v", err)
	}
	if _, err := poll(DeviceCode{DeviceCode: "made-up"}, "device_code"); code(err) != 70019 {
		t.Fatalf("unknown device code: %v", err)
	}
}

// TestDeviceCodeSlowDown: a device polling again within a second is told
// slow_down (and keeps waiting); at the pace of the interval it is told
// authorization_pending; approval still goes through at once.
func TestDeviceCodeSlowDown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "pace@" + testDomain, DisplayName: "Pace", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	scope := directory.AKSServerApp + "/.default offline_access openid profile"
	dc, err := e.svc.StartDeviceCode(ctx, testTenant, url.Values{"client_id": {directory.AKSClientApp}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	poll := func() (*TokenResponse, string) {
		resp, err := e.svc.Token(ctx, e.request(V2, testTenant, url.Values{"grant_type": {"device_code"}, "client_id": {directory.AKSClientApp},
			"device_code": {dc.DeviceCode}, "scope": {scope}}))
		var se *Error
		if errors.As(err, &se) {
			return nil, se.OAuth
		}
		if err != nil {
			t.Fatal(err)
		}
		return resp, ""
	}
	if _, got := poll(); got != "authorization_pending" {
		t.Fatalf("first poll: %s", got)
	}
	if _, got := poll(); got != "slow_down" {
		t.Fatalf("second poll at once: %s", got)
	}
	e.wall.Add(5 * time.Second)
	if _, got := poll(); got != "authorization_pending" {
		t.Fatalf("poll after the interval: %s", got)
	}
	if err := e.svc.ApproveDeviceCode(ctx, dc.UserCode, user.UserPrincipalName, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if resp, got := poll(); resp == nil || got != "" {
		t.Fatalf("a fast poll after approval: %s", got)
	}
}
