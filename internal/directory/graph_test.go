package directory

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const tid = "11111111-2222-3333-4444-555555555555"

func selfSigned(t *testing.T, notBefore, notAfter time.Time) (*rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func TestApplicationLifecycleKeepsIndexesConsistent(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	if err := d.EnsureFirstParty(ctx, tid); err != nil {
		t.Fatal(err)
	}
	app, err := d.RegisterApplication(ctx, tid, ApplicationSpec{DisplayName: "api", IdentifierURIs: []string{"api://one"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ServicePrincipal(ctx, tid, app.AppID); !errors.Is(err, ErrPrincipalNotFound) {
		t.Fatalf("RegisterApplication made a principal: %v", err)
	}
	apps, _ := d.Applications(ctx, tid)
	if len(apps) != 1 || apps[0].AppID != app.AppID {
		t.Fatalf("tenant's applications %+v (first-party apps belong to Microsoft's tenant)", apps)
	}
	sp, err := d.CreateServicePrincipal(ctx, tid, ServicePrincipalSpec{AppID: app.AppID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateServicePrincipal(ctx, tid, ServicePrincipalSpec{AppID: app.AppID}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second principal: %v", err)
	}
	if _, err := d.CreateServicePrincipal(ctx, tid, ServicePrincipalSpec{AppID: "0b0b0b0b-0000-4000-8000-000000000000"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("principal for unknown app: %v", err)
	} else if msg, _ := Reason(err); msg != "The appId '0b0b0b0b-0000-4000-8000-000000000000' of the service principal does not reference a valid application object." {
		t.Fatalf("message %q", msg)
	}

	// Moving the identifier URI frees the old one and renames the principal.
	uris := []string{"api://two"}
	name := "api renamed"
	if _, err := d.UpdateApplication(ctx, tid, app.ObjectID, ApplicationPatch{DisplayName: &name, IdentifierURIs: &uris}); err != nil {
		t.Fatal(err)
	}
	if l, _ := d.ClientAndResource(ctx, tid, AzureCLIApp, "api://one"); !errors.Is(l.ResourceErr, ErrApplicationNotFound) {
		t.Fatal("old URI still resolves")
	}
	if l, _ := d.ClientAndResource(ctx, tid, AzureCLIApp, "api://two"); l.ResourceErr != nil || l.Resource.App.DisplayName != name {
		t.Fatalf("new URI: %v", l.ResourceErr)
	}
	if got, _ := d.ServicePrincipalByObjectID(ctx, tid, sp.ObjectID); !slices.Equal(got.ServicePrincipalNames, []string{app.AppID, "api://two"}) {
		t.Fatalf("principal names %v", got.ServicePrincipalNames)
	}
	taken := []string{"https://graph.microsoft.com"}
	if _, err := d.UpdateApplication(ctx, tid, app.ObjectID, ApplicationPatch{IdentifierURIs: &taken}); !errors.Is(err, ErrConflict) {
		t.Fatalf("taken URI: %v", err)
	}
	if got, _ := d.ApplicationByObjectID(ctx, tid, app.ObjectID); !slices.Equal(got.IdentifierURIs, uris) {
		t.Fatalf("failed update half-applied: %v", got.IdentifierURIs)
	}
	if _, err := d.ApplicationByObjectID(ctx, "99999999-2222-3333-4444-555555555555", app.ObjectID); !errors.Is(err, ErrApplicationNotFound) {
		t.Fatal("application visible from another tenant")
	}

	// Deleting the principal keeps the application; deleting the
	// application takes its principals and URIs with it.
	if err := d.DeleteServicePrincipal(ctx, tid, sp.ObjectID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplicationByObjectID(ctx, tid, app.ObjectID); err != nil {
		t.Fatalf("application gone with its principal: %v", err)
	}
	sp2, err := d.CreateServicePrincipal(ctx, tid, ServicePrincipalSpec{AppID: app.AppID})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteApplication(ctx, tid, app.ObjectID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ServicePrincipalByObjectID(ctx, tid, sp2.ObjectID); !errors.Is(err, ErrPrincipalNotFound) {
		t.Fatalf("principal survived its application: %v", err)
	}
	if _, err := d.RegisterApplication(ctx, tid, ApplicationSpec{DisplayName: "reuse", IdentifierURIs: []string{"api://two"}}); err != nil {
		t.Fatalf("URI not released: %v", err)
	}
	if err := d.DeleteApplication(ctx, tid, app.ObjectID); !errors.Is(err, ErrApplicationNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestPasswordsOnApplicationsAndPrincipals(t *testing.T) {
	d, _, clk := newDir(t)
	ctx := context.Background()
	reg, err := d.CreateApplication(ctx, tid, ApplicationSpec{DisplayName: "x"})
	app, sp := reg.App, reg.SP
	if err != nil {
		t.Fatal(err)
	}
	added, err := d.AddPasswordTo(ctx, tid, TypeApplication, app.ObjectID, PasswordSpec{})
	if err != nil {
		t.Fatal(err)
	}
	cred := added.Credential
	spAdded, err := d.AddPasswordTo(ctx, tid, TypeServicePrincipal, sp.ObjectID, PasswordSpec{})
	if err != nil {
		t.Fatal(err)
	}
	spSecret := spAdded.Secret
	// A principal's own secret signs the client in, as in Entra.
	l, _ := d.ClientAndResource(ctx, tid, app.AppID, "")
	if _, err := CheckSecret(l.Client.App, spSecret, clk.Now()); err != nil {
		t.Fatalf("principal secret: %v", err)
	}
	if _, err := d.AddPasswordTo(ctx, tid, TypeServicePrincipal, app.ObjectID, PasswordSpec{}); !errors.Is(err, ErrPrincipalNotFound) {
		t.Fatalf("application ID as principal: %v", err)
	}
	if err := d.RemovePassword(ctx, tid, TypeApplication, app.ObjectID, cred.KeyID); err != nil {
		t.Fatal(err)
	}
	if err := d.RemovePassword(ctx, tid, TypeApplication, app.ObjectID, cred.KeyID); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("second removal: %v", err)
	}
	if got, _ := d.ApplicationByObjectID(ctx, tid, app.ObjectID); len(got.PasswordCredentials) != 0 {
		t.Fatalf("credentials left: %+v", got.PasswordCredentials)
	}
}

// az computes endDateTime = its now + 1 year; after `clock advance 366d`
// that date must still mean a year of aksid's time.
func TestClientDatesMoveIntoAksidFrame(t *testing.T) {
	d, _, clk := newDir(t)
	ctx := context.Background()
	clk.SetOffset(366 * 24 * time.Hour)
	app, err := d.RegisterApplication(ctx, tid, ApplicationSpec{DisplayName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Now().UTC().Truncate(time.Second)
	added, err := d.AddPasswordTo(ctx, tid, TypeApplication, app.ObjectID, PasswordSpec{
		Start: wall, End: wall.AddDate(1, 0, 0), ClientNow: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	cred := added.Credential
	want := wall.Add(366 * 24 * time.Hour)
	if d := cred.StartDateTime.Sub(want); d < -time.Second || d > time.Second {
		t.Fatalf("start %v, want ≈ %v", cred.StartDateTime, want)
	}
	wantEnd := wall.AddDate(1, 0, 0).Add(366 * 24 * time.Hour)
	if d := cred.EndDateTime.Sub(wantEnd); d < -time.Second || d > time.Second {
		t.Fatalf("end %v, want ≈ %v", cred.EndDateTime, wantEnd)
	}
	stored, _ := d.ApplicationByObjectID(ctx, tid, app.ObjectID)
	if _, err := CheckSecret(stored, "wrong", clk.Now()); !errors.Is(err, ErrSecretInvalid) {
		t.Fatal(err)
	}
	// Without a client clock the dates are taken as aksid's.
	added2, _ := d.AddPasswordTo(ctx, tid, TypeApplication, app.ObjectID, PasswordSpec{End: wall.AddDate(2, 0, 0)})
	if cred2 := added2.Credential; !cred2.EndDateTime.Equal(wall.AddDate(2, 0, 0)) {
		t.Fatalf("aksid-frame end moved: %v", cred2.EndDateTime)
	}
}

func TestKeyCredentialsPatchAndProof(t *testing.T) {
	d, _, clk := newDir(t)
	ctx := context.Background()
	now := clk.Now()
	key, der := selfSigned(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	app, err := d.RegisterApplication(ctx, tid, ApplicationSpec{DisplayName: "c", KeyCredentials: []KeyCredentialSpec{{Key: der, DisplayName: "one"}}})
	if err != nil {
		t.Fatal(err)
	}
	first := app.KeyCredentials[0]
	if len(first.CustomKeyIdentifier) != 40 || first.Type != "AsymmetricX509Cert" {
		t.Fatalf("credential %+v", first)
	}
	_, der2 := selfSigned(t, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	// az's --append sends the old entry back without its key.
	list := []KeyCredentialSpec{{KeyID: first.KeyID}, {Key: der2}}
	got, err := d.UpdateApplication(ctx, tid, app.ObjectID, ApplicationPatch{KeyCredentials: &list})
	if err != nil || len(got.KeyCredentials) != 2 || got.KeyCredentials[0].KeyID != first.KeyID {
		t.Fatalf("append: %v %+v", err, got.KeyCredentials)
	}
	bad := []KeyCredentialSpec{{Key: []byte("not a certificate")}}
	if _, err := d.UpdateApplication(ctx, tid, app.ObjectID, ApplicationPatch{KeyCredentials: &bad}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad certificate: %v", err)
	}
	unknown := []KeyCredentialSpec{{KeyID: "0b0b0b0b-0000-4000-8000-000000000000"}}
	if _, err := d.UpdateApplication(ctx, tid, app.ObjectID, ApplicationPatch{KeyCredentials: &unknown}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("keyless unknown entry: %v", err)
	}

	sign := func(k *rsa.PrivateKey, c jwt.Claims) string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, nil)
		tok, _ := jwt.Signed(s).Claims(c).Serialize()
		return tok
	}
	wall := time.Now()
	good := jwt.Claims{Issuer: app.ObjectID, Audience: jwt.Audience{proofAudience},
		NotBefore: jwt.NewNumericDate(wall), Expiry: jwt.NewNumericDate(wall.Add(10 * time.Minute))}
	if err := d.CheckKeyProof(ctx, tid, TypeApplication, app.ObjectID, KeyProof{Token: sign(key, good), ClientNow: wall}); err != nil {
		t.Fatalf("good proof: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	long := good
	long.Expiry = jwt.NewNumericDate(wall.Add(time.Hour))
	for name, tok := range map[string]string{"foreign key": sign(other, good), "too long": sign(key, long), "garbage": "x.y.z"} {
		if err := d.CheckKeyProof(ctx, tid, TypeApplication, app.ObjectID, KeyProof{Token: tok, ClientNow: wall}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s accepted: %v", name, err)
		}
	}
	if err := d.RemoveCertificate(ctx, tid, TypeApplication, app.ObjectID, first.KeyID); err != nil {
		t.Fatal(err)
	}
}

func TestGroupsNestAndTransitiveMembershipEndsOnCycles(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	u, err := d.CreateUser(ctx, tid, UserSpec{UserPrincipalName: "bob@t.test", DisplayName: "Bob", Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := d.CreateApplication(ctx, tid, ApplicationSpec{DisplayName: "svc"})
	sp := reg.SP
	mk := func(name string) Group {
		g, err := d.CreateGroup(ctx, tid, GroupSpec{DisplayName: name, MailNickname: name, SecurityEnabled: true})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	a, b, c := mk("a"), mk("b"), mk("c")
	for _, m := range [][2]string{{a.ObjectID, u.ObjectID}, {a.ObjectID, sp.ObjectID}, {b.ObjectID, a.ObjectID}, {c.ObjectID, b.ObjectID}, {a.ObjectID, c.ObjectID}} {
		if err := d.AddMember(ctx, tid, m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddMember(ctx, tid, a.ObjectID, u.ObjectID); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate member: %v", err)
	}
	if err := d.AddMember(ctx, tid, a.ObjectID, a.ObjectID); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("self member: %v", err)
	}
	if err := d.AddMember(ctx, tid, a.ObjectID, "0b0b0b0b-0000-4000-8000-000000000000"); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("unknown member: %v", err)
	} else if id, _ := MissingID(err); id != "0b0b0b0b-0000-4000-8000-000000000000" {
		t.Fatalf("missing id %q", id)
	}
	want := []string{a.ObjectID, b.ObjectID, c.ObjectID}
	slices.Sort(want)
	for _, who := range []string{u.ObjectID, sp.ObjectID} {
		got, err := d.TransitiveGroups(ctx, tid, who)
		slices.Sort(got)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("transitive groups of %s: %v %v", who, got, err)
		}
	}
	if got, _ := d.TransitiveGroups(ctx, tid, "0b0b0b0b-0000-4000-8000-000000000000"); len(got) != 0 {
		t.Fatalf("unknown object in groups %v", got)
	}
	direct, _ := d.MemberOf(ctx, tid, u.ObjectID)
	if len(direct) != 1 || direct[0].ID() != a.ObjectID || direct[0].Type != TypeGroup {
		t.Fatalf("memberOf %+v", direct)
	}
	members, _ := d.Members(ctx, tid, a.ObjectID)
	if len(members) != 3 {
		t.Fatalf("members of a: %d", len(members))
	}
	// Deleting b cuts the chain a → b → c.
	if err := d.DeleteGroup(ctx, tid, b.ObjectID); err != nil {
		t.Fatal(err)
	}
	got, _ := d.TransitiveGroups(ctx, tid, u.ObjectID)
	if !slices.Equal(got, []string{a.ObjectID}) {
		t.Fatalf("after deleting b: %v", got)
	}
	if err := d.RemoveMember(ctx, tid, a.ObjectID, u.ObjectID); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveMember(ctx, tid, a.ObjectID, u.ObjectID); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("second removal: %v", err)
	}
	if err := d.DeleteServicePrincipal(ctx, tid, sp.ObjectID); err != nil {
		t.Fatal(err)
	}
	if members, _ := d.Members(ctx, tid, a.ObjectID); len(members) != 1 || members[0].ID() != c.ObjectID {
		t.Fatalf("deleted principal still a member: %+v", members)
	}
}

func TestDirectoryRolesAndObjectsByID(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	reg, _ := d.CreateApplication(ctx, tid, ApplicationSpec{DisplayName: "admin"})
	app, sp := reg.App, reg.SP
	for i := 0; i < 2; i++ {
		if err := d.EnsureDirectoryRoleMember(ctx, tid, GlobalAdministratorRole, sp.ObjectID); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := d.IsAdministrator(ctx, tid, sp.ObjectID); !ok || err != nil {
		t.Fatalf("admin: %v %v", ok, err)
	}
	u, _ := d.CreateUser(ctx, tid, UserSpec{UserPrincipalName: "eve@t.test", DisplayName: "Eve", Password: "Passw0rd!"})
	if ok, _ := d.IsAdministrator(ctx, tid, u.ObjectID); ok {
		t.Fatal("plain user is admin")
	}
	of, _ := d.MemberOf(ctx, tid, sp.ObjectID)
	if len(of) != 1 || of[0].DirectoryRole == nil || of[0].DirectoryRole.RoleTemplateID != GlobalAdministratorRole {
		t.Fatalf("memberOf %+v", of)
	}
	if groups, _ := d.TransitiveGroups(ctx, tid, sp.ObjectID); len(groups) != 0 {
		t.Fatalf("roles counted as groups: %v", groups)
	}
	objs, err := d.Objects(ctx, tid, []string{u.ObjectID, "0b0b0b0b-0000-4000-8000-000000000000", sp.ObjectID, app.ObjectID}, nil)
	if err != nil || len(objs) != 3 || objs[0].Type != TypeUser || objs[1].Type != TypeServicePrincipal || objs[2].Type != TypeApplication {
		t.Fatalf("objects %+v %v", objs, err)
	}
	objs, _ = d.Objects(ctx, tid, []string{u.ObjectID, sp.ObjectID}, []string{"servicePrincipal"})
	if len(objs) != 1 || objs[0].ID() != sp.ObjectID {
		t.Fatalf("typed objects %+v", objs)
	}
}

func TestUsersFollowEntraRules(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	cases := map[string]UserSpec{
		"foreign domain": {UserPrincipalName: "x@elsewhere.test", DisplayName: "x", Password: "Passw0rd!"},
		"weak password":  {UserPrincipalName: "x@t.test", DisplayName: "x", Password: "password"},
		"no display":     {UserPrincipalName: "x@t.test", Password: "Passw0rd!"},
		"no at":          {UserPrincipalName: "x", DisplayName: "x", Password: "Passw0rd!"},
	}
	for name, spec := range cases {
		if _, err := d.CreateUser(ctx, tid, spec); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	u, err := d.CreateUser(ctx, tid, UserSpec{UserPrincipalName: "Carol@t.test", DisplayName: "Carol", Password: "Passw0rd!"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(ctx, tid, UserSpec{UserPrincipalName: "carol@T.test", DisplayName: "C", Password: "Passw0rd!"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate UPN: %v", err)
	}
	if got, err := d.User(ctx, tid, "CAROL@t.test"); err != nil || got.ObjectID != u.ObjectID {
		t.Fatalf("by UPN: %v", err)
	}
	off := false
	if got, err := d.UpdateUser(ctx, tid, u.ObjectID, UserPatch{AccountEnabled: &off}); err != nil || got.AccountEnabled {
		t.Fatalf("disable: %v", err)
	}
	if err := d.DeleteUser(ctx, tid, "carol@t.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.User(ctx, tid, u.ObjectID); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("deleted user: %v", err)
	}
	if _, err := d.CreateUser(ctx, tid, UserSpec{UserPrincipalName: "carol@t.test", DisplayName: "C", Password: "Passw0rd!"}); err != nil {
		t.Fatalf("UPN not released: %v", err)
	}
}
