package guard

import (
	"context"
	"crypto/rsa"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/authn"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/pop"
	"github.com/aksid/aksid/internal/sts"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var managed = Cluster{ID: clusterID, TenantID: tenantA, Managed: true}

// refused asserts a refusal whose message contains want.
func refused(t *testing.T, what string, err error, want string) *RefusedError {
	t.Helper()
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("%s: want a refusal, got %v", what, err)
	}
	if !strings.Contains(re.Error(), want) {
		t.Fatalf("%s: refusal %q does not say %q", what, re.Error(), want)
	}
	return re
}

func TestUserTokenGivesUPNAndGroups(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(tenantA, "ada@contoso.test")
	g, err := e.dir.CreateGroup(ctx, tenantA, directory.GroupSpec{DisplayName: "ops", MailNickname: "ops", SecurityEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.dir.AddMember(ctx, tenantA, g.ObjectID, u.ObjectID); err != nil {
		t.Fatal(err)
	}
	// Both issuers the token service writes: Azure's through the proxy,
	// aksid's own directly.
	for _, iss := range []origin.Issuers{origin.Azure(), direct} {
		tok := e.token("organizations", sts.V2, iss, userForm(u))
		got, err := e.rev.Review(ctx, managed, tok)
		if err != nil {
			t.Fatalf("%s: %v", iss.V1Base, err)
		}
		if got.Username != u.UserPrincipalName || got.UID != "" || !slices.Equal(got.Groups, []string{g.ObjectID}) ||
			!slices.Equal(got.Extra["oid"], []string{u.ObjectID}) || len(got.Extra) != 1 {
			t.Fatalf("%s: user %+v", iss.V1Base, got)
		}
	}
}

func TestServicePrincipalIsItsObjectID(t *testing.T) {
	e := newEnv(t)
	reg, secret := e.app(tenantA, directory.ApplicationSpec{DisplayName: "ci"})
	tok := e.token(tenantA, sts.V1, origin.Azure(), spForm(reg.App.AppID, secret, directory.AKSServerApp))
	got, err := e.rev.Review(context.Background(), managed, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != reg.SP.ObjectID || got.Extra["oid"][0] != reg.SP.ObjectID || got.Groups != nil {
		t.Fatalf("user %+v, want the SP's object ID %s", got, reg.SP.ObjectID)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	reg, secret := e.app(tenantA, directory.ApplicationSpec{DisplayName: "ci"})

	arm := e.token(tenantA, sts.V1, origin.Azure(), spForm(reg.App.AppID, secret, "https://management.core.windows.net/"))
	_, err := e.rev.Review(ctx, managed, arm)
	re := refused(t, "ARM audience", err, `failed to verify token for azure: oidc: expected audience "`+directory.AKSServerApp+`" got ["https://management.core.windows.net/"]`)
	if !errors.Is(re, authn.ErrAudience) {
		t.Fatalf("cause %v", re.Err)
	}

	other, otherSecret := e.app(tenantB, directory.ApplicationSpec{DisplayName: "elsewhere"})
	tok := e.token(tenantB, sts.V1, origin.Azure(), spForm(other.App.AppID, otherSecret, directory.AKSServerApp))
	_, err = e.rev.Review(ctx, managed, tok)
	refused(t, "another tenant", err, `issued by a different provider, expected "https://sts.windows.net/`+tenantA+`/" got "https://sts.windows.net/`+tenantB+`/"`)

	_, err = e.rev.Review(ctx, managed, "not-a-token")
	refused(t, "junk", err, "failed to verify token for azure: ")

	tok = e.token(tenantA, sts.V1, direct, spForm(reg.App.AppID, secret, directory.AKSServerApp))
	e.wall.add(2 * time.Hour)
	_, err = e.rev.Review(ctx, managed, tok)
	re = refused(t, "expired", err, "failed to verify token for azure: oidc: token is expired (Token Expiry: 2026-06-01 12:59:59 +0000 UTC)")
	if !errors.Is(re, authn.ErrExpired) {
		t.Fatalf("cause %v", re.Err)
	}
}

func TestIssuerMustBeV1(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A legacy server app that asks for v2 tokens gets v2 issuers.
	server, _ := e.app(tenantA, directory.ApplicationSpec{DisplayName: "v2-server", AccessTokenAcceptedVersion: 2})
	client, secret := e.app(tenantA, directory.ApplicationSpec{DisplayName: "ci"})
	tok := e.token(tenantA, sts.V1, origin.Azure(), spForm(client.App.AppID, secret, server.App.AppID))
	c := Cluster{ID: clusterID, TenantID: tenantA, ServerAppID: server.App.AppID}
	_, err := e.rev.Review(ctx, c, tok)
	refused(t, "v2 issuer", err, `expected "https://sts.windows.net/`+tenantA+`/" got "https://login.microsoftonline.com/`+tenantA+`/v2.0"`)
}

func TestGroupOverageResolvedThroughDirectory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(tenantA, "gus@contoso.test")
	var want []string
	for range 250 {
		g, err := e.dir.CreateGroup(ctx, tenantA, directory.GroupSpec{DisplayName: "g", MailNickname: "g", SecurityEnabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.dir.AddMember(ctx, tenantA, g.ObjectID, u.ObjectID); err != nil {
			t.Fatal(err)
		}
		want = append(want, g.ObjectID)
	}
	tok := e.token("organizations", sts.V2, origin.Azure(), userForm(u))
	cl, err := readClaims(tok)
	if err != nil || cl.Groups != nil || !cl.overage() {
		t.Fatalf("the token should carry overage claims: %+v %v", cl, err)
	}
	got, err := e.rev.Review(ctx, managed, tok)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got.Groups)
	slices.Sort(want)
	if got.Username != u.UserPrincipalName || !slices.Equal(got.Groups, want) {
		t.Fatalf("user %s with %d groups, want %d", got.Username, len(got.Groups), len(want))
	}
}

func TestPoPRequestMustNameTheCluster(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(tenantA, "pat@contoso.test")
	at := e.token("organizations", sts.V2, origin.Azure(), withPoP(userForm(u)))
	now := e.wall.Now()

	// u is compared case-insensitively, as Guard does.
	got, err := e.rev.Review(ctx, managed, shr(at, now, strings.ToUpper(clusterID)))
	if err != nil || got.Username != u.UserPrincipalName {
		t.Fatalf("right u: %+v %v", got, err)
	}
	other := strings.Replace(clusterID, "/c1", "/c2", 1)
	_, err = e.rev.Review(ctx, managed, shr(at, now, other))
	re := refused(t, "wrong u", err, `failed to verify pop token: Invalid Pop token due to host mismatch. Expected: "`+clusterID+`", received: "`+other+`"`)
	if !errors.Is(re, pop.ErrHost) {
		t.Fatalf("cause %v", re.Err)
	}
	_, err = e.rev.Review(ctx, managed, shr(at, now.Add(-20*time.Minute), clusterID))
	refused(t, "old ts", err, "failed to verify pop token: Token is expired.")

	// A bearer token wrapped by someone else's key is not bound to it.
	bearer := e.token("organizations", sts.V2, origin.Azure(), userForm(u))
	_, err = e.rev.Review(ctx, managed, shr(bearer, now, clusterID))
	refused(t, "unbound", err, "'cnf' claim mismatch")
}

func TestLegacyServerAppAudiences(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	server, _ := e.app(tenantA, directory.ApplicationSpec{DisplayName: "aks-server", IdentifierURIs: []string{"api://aks-server"}})
	client, secret := e.app(tenantA, directory.ApplicationSpec{DisplayName: "ci"})
	legacy, err := ClusterFrom(clusterID, tenantA, map[string]any{"properties": map[string]any{"aadProfile": map[string]any{
		"serverAppID": server.App.AppID, "clientAppID": "11111111-0000-4000-8000-000000000002"}}})
	if err != nil || legacy.Managed || legacy.ServerAppID != server.App.AppID {
		t.Fatalf("cluster %+v %v", legacy, err)
	}
	for _, resource := range []string{server.App.AppID, "api://aks-server"} {
		tok := e.token(tenantA, sts.V1, origin.Azure(), spForm(client.App.AppID, secret, resource))
		got, err := e.rev.Review(ctx, legacy, tok)
		if err != nil || got.Username != client.SP.ObjectID {
			t.Fatalf("resource %s: %+v %v", resource, got, err)
		}
	}
	// AKS's own server app is not the legacy cluster's audience.
	tok := e.token(tenantA, sts.V1, origin.Azure(), spForm(client.App.AppID, secret, directory.AKSServerApp))
	_, err = e.rev.Review(ctx, legacy, tok)
	refused(t, "managed audience on a legacy cluster", err, `expected audience "`+server.App.AppID+`"`)
}

func TestClusterFrom(t *testing.T) {
	model := func(aad map[string]any) map[string]any {
		return map[string]any{"properties": map[string]any{"aadProfile": aad}}
	}
	c, err := ClusterFrom(clusterID, tenantA, model(map[string]any{"managed": true, "enableAzureRBAC": true}))
	if err != nil || c != (Cluster{ID: clusterID, TenantID: tenantA, Managed: true}) {
		t.Fatalf("managed: %+v %v", c, err)
	}
	c, err = ClusterFrom(clusterID, tenantA, model(map[string]any{"managed": true, "tenantID": tenantB}))
	if err != nil || c.TenantID != tenantB {
		t.Fatalf("aadProfile.tenantID: %+v %v", c, err)
	}
	for _, m := range []map[string]any{{"properties": map[string]any{}}, model(map[string]any{"managed": false})} {
		if _, err := ClusterFrom(clusterID, tenantA, m); !errors.Is(err, ErrNoEntra) {
			t.Fatalf("%v: %v", m, err)
		}
	}
}

// keySource publishes one key, for tokens the token service would not
// mint.
type keySource struct{ k *rsa.PrivateKey }

func (s keySource) VerifyKey(_ context.Context, kid string) (*rsa.PublicKey, bool) {
	return &s.k.PublicKey, kid == "k1"
}

func TestServicePrincipalOverageRefusedAsGuard(t *testing.T) {
	wall := &wallClock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	rev := New(Options{Validator: authn.New(keySource{popKey()}, wall), Wall: wall})
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: popKey()}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := wall.Now().Unix()
	tok, err := jwt.Signed(sig).Claims(map[string]any{"iss": "https://sts.windows.net/" + tenantA + "/", "aud": directory.AKSServerApp,
		"tid": tenantA, "oid": "sp-oid", "idtyp": "app", "iat": now, "nbf": now, "exp": now + 3600,
		"_claim_names":   map[string]string{"groups": "src1"},
		"_claim_sources": map[string]any{"src1": map[string]string{"endpoint": "https://graph.microsoft.com/v1.0/servicePrincipals/sp-oid/getMemberObjects"}},
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	_, err = rev.Review(context.Background(), managed, tok)
	refused(t, "SP overage", err, "service principal with group membership exceeding 200 is not supported")
}
