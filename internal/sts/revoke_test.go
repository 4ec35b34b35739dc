package sts

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/directory"
)

// TestRevokedSessionsRefuseRefreshTokens: after revokeSignInSessions or a
// new password, refresh tokens issued before are refused with 50173
// (rotated ones too); a new sign-in gets tokens that refresh again.
func TestRevokedSessionsRefuseRefreshTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user, err := e.dir.EnsureUser(ctx, testTenant, directory.UserSpec{UserPrincipalName: "rev@" + testDomain, DisplayName: "Rev", Password: "correct horse 1A"})
	if err != nil {
		t.Fatal(err)
	}
	scope := directory.AKSServerApp + "/.default openid offline_access"
	signIn := func(pw string) string {
		resp, err := e.svc.Token(ctx, e.request(V2, testTenant, url.Values{"grant_type": {"password"}, "client_id": {directory.AKSClientApp},
			"username": {user.UserPrincipalName}, "password": {pw}, "scope": {scope}}))
		if err != nil {
			t.Fatal(err)
		}
		return resp.RefreshToken
	}
	refresh := func(rt string) (*TokenResponse, error) {
		return e.svc.Token(ctx, e.request(V2, testTenant, url.Values{"grant_type": {"refresh_token"}, "client_id": {directory.AKSClientApp},
			"refresh_token": {rt}, "scope": {scope}}))
	}
	rt := signIn("correct horse 1A")
	resp, err := refresh(rt)
	if err != nil {
		t.Fatal(err)
	}
	rotated := resp.RefreshToken
	e.wall.Add(time.Second)
	if err := e.dir.RevokeSignInSessions(ctx, testTenant, user.UserPrincipalName); err != nil {
		t.Fatal(err)
	}
	e.wall.Add(time.Second)
	if _, err := refresh(rotated); errCode(err) != 50173 {
		t.Fatalf("refresh after revocation: %v", err)
	}
	fresh := signIn("correct horse 1A")
	if _, err := refresh(fresh); err != nil {
		t.Fatalf("a sign-in after revocation: %v", err)
	}

	before := signIn("correct horse 1A")
	pw := "another horse 2B"
	e.wall.Add(time.Second)
	if _, err := e.dir.UpdateUser(ctx, testTenant, user.ObjectID, directory.UserPatch{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	e.wall.Add(time.Second)
	if _, err := refresh(before); errCode(err) != 50173 {
		t.Fatalf("refresh after a new password: %v", err)
	}
	if _, err := refresh(signIn(pw)); err != nil {
		t.Fatal(err)
	}
}
