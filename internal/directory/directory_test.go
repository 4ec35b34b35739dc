package directory

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store"
	"github.com/aksid/aksid/internal/store/sqlite"
)

func newDir(t *testing.T) (*Directory, store.Store, *clock.Virtual) {
	t.Helper()
	st, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewVirtual(clock.Wall{}, 0)
	d := New(st, clk, rand.Reader)
	if err := d.EnsureTenant(context.Background(), Tenant{ID: "11111111-2222-3333-4444-555555555555", DisplayName: "t",
		DefaultDomain: "t.test", Domains: []string{"t.test"}}); err != nil {
		t.Fatal(err)
	}
	return d, st, clk
}

var entraSecret = regexp.MustCompile(`^[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{34}$`)

func TestSecretsAreShownOnceAndStoredOnlyAsHashes(t *testing.T) {
	d, st, clk := newDir(t)
	ctx := context.Background()
	reg, err := d.CreateApplication(ctx, "11111111-2222-3333-4444-555555555555", ApplicationSpec{DisplayName: "x"})
	app, sp := reg.App, reg.SP
	if err != nil {
		t.Fatal(err)
	}
	if sp.AppID != app.AppID || sp.ObjectID == app.ObjectID || sp.ServicePrincipalType != "Application" {
		t.Fatalf("sp %+v", sp)
	}
	np, err := d.AddPassword(ctx, app.AppID, PasswordSpec{DisplayName: "ci"})
	cred, secret := np.Credential, np.Secret
	if err != nil {
		t.Fatal(err)
	}
	if !entraSecret.MatchString(secret) || cred.Hint != secret[:3] {
		t.Fatalf("secret %q hint %q", secret, cred.Hint)
	}
	if got := cred.EndDateTime.Sub(cred.StartDateTime); got != 365*24*time.Hour {
		t.Fatalf("default lifetime %v", got)
	}
	// Nothing in the store holds the secret in clear.
	_ = st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, kind := range []string{kindApp, kindSP, kindAppURI, kindTenant} {
			items, _ := tx.List(kind, "")
			for _, it := range items {
				if bytes.Contains(it.Value, []byte(secret)) {
					t.Errorf("%s/%s holds the secret", kind, it.Key)
				}
			}
		}
		return nil
	})
	stored, _ := d.Application(ctx, app.AppID)
	if _, err := CheckSecret(stored, secret, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckSecret(stored, secret+"x", clk.Now()); !errors.Is(err, ErrSecretInvalid) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := CheckSecret(stored, secret, clk.Now().AddDate(1, 0, 1)); !errors.Is(err, ErrSecretExpired) {
		t.Fatalf("expired secret: %v", err)
	}
	if _, err := d.AddPassword(ctx, "00000000-0000-0000-0000-00000000abcd", PasswordSpec{}); !errors.Is(err, ErrApplicationNotFound) {
		t.Fatalf("unknown app: %v", err)
	}
}

func TestUserPasswordsUseArgon2id(t *testing.T) {
	d, _, _ := newDir(t)
	u, err := d.EnsureUser(context.Background(), "11111111-2222-3333-4444-555555555555",
		UserSpec{UserPrincipalName: "Alice@t.test", DisplayName: "Alice", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$`).MatchString(u.PasswordHash) {
		t.Fatalf("hash %q", u.PasswordHash)
	}
	if !CheckPassword(u, "correct horse") || CheckPassword(u, "correct horsf") {
		t.Fatal("password check")
	}
	if again, err := d.UserByUPN(context.Background(), "alice@T.TEST"); err != nil || again.ObjectID != u.ObjectID {
		t.Fatalf("case-insensitive UPN: %v", err)
	}
}

func TestTenantAndResourceLookup(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	tid := "11111111-2222-3333-4444-555555555555"
	if err := d.EnsureFirstParty(ctx, tid); err != nil {
		t.Fatal(err)
	}
	if tn, err := d.Tenant(ctx, "T.TEST"); err != nil || tn.ID != tid {
		t.Fatalf("by domain: %v", err)
	}
	if _, err := d.Tenant(ctx, "nowhere.test"); !errors.Is(err, ErrTenantNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	for _, res := range []string{"https://management.core.windows.net/", "https://management.azure.com", "HTTPS://GRAPH.MICROSOFT.COM/", AKSServerApp} {
		l, err := d.ClientAndResource(ctx, tid, AzureCLIApp, res)
		if err != nil || l.ClientErr != nil || l.ResourceErr != nil {
			t.Fatalf("%s: %v %v %v", res, err, l.ClientErr, l.ResourceErr)
		}
	}
	l, _ := d.ClientAndResource(ctx, tid, AzureCLIApp, "https://nothing.test")
	if !errors.Is(l.ResourceErr, ErrApplicationNotFound) {
		t.Fatalf("unknown resource: %v", l.ResourceErr)
	}
	if _, err := d.CreateApplication(ctx, tid, ApplicationSpec{DisplayName: "dup", IdentifierURIs: []string{"https://graph.microsoft.com/"}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("duplicate identifier URI: %v", err)
	}
}

func TestCachedReadsFollowWrites(t *testing.T) {
	d, st, _ := newDir(t)
	ctx := context.Background()
	tid := "11111111-2222-3333-4444-555555555555"
	if err := d.EnsureFirstParty(ctx, tid); err != nil {
		t.Fatal(err)
	}
	l, _ := d.ClientAndResource(ctx, tid, AzureCLIApp, "api://later")
	if !errors.Is(l.ResourceErr, ErrApplicationNotFound) {
		t.Fatal("resource exists too early")
	}
	// A write through this directory is seen at once.
	reg, err := d.CreateApplication(ctx, tid, ApplicationSpec{DisplayName: "later", IdentifierURIs: []string{"api://later"}})
	api := reg.App
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := d.ClientAndResource(ctx, tid, AzureCLIApp, "api://later"); l.ResourceErr != nil || l.Resource.App.AppID != api.AppID {
		t.Fatalf("new resource not seen: %v", l.ResourceErr)
	}
	// A second directory on the same store (another process) sees a
	// change made elsewhere once it forgets its cache.
	other := New(st, clock.Wall{}, rand.Reader)
	if tn, err := other.CachedTenant(ctx, "t.test"); err != nil || tn.DisplayName != "t" {
		t.Fatal(err)
	}
	if err := d.EnsureTenant(ctx, Tenant{ID: "99999999-2222-3333-4444-555555555555", DisplayName: "n", Domains: []string{"n.test"}}); err != nil {
		t.Fatal(err)
	}
	other.ForgetCached()
	if _, err := other.CachedTenant(ctx, "n.test"); err != nil {
		t.Fatalf("new tenant not seen after ForgetCached: %v", err)
	}
}

// A client is read from the store once, then served from memory with its
// secrets' hashes; a secret removed through this directory, or through
// another one on the same store once this one forgets, stops working.
func TestCachedClientFollowsSecretChanges(t *testing.T) {
	d, st, clk := newDir(t)
	ctx := context.Background()
	tid, reg, pw := appWithSecret(t, d)
	secretWorks := func(d *Directory) bool {
		t.Helper()
		l, err := d.ClientAndResource(ctx, tid, strings.ToUpper(reg.App.AppID), AzureCLIApp)
		if err != nil || l.ClientErr != nil {
			t.Fatal(err, l.ClientErr)
		}
		_, err = CheckSecret(l.Client.App, pw.Secret, clk.Now())
		return err == nil
	}
	if !secretWorks(d) {
		t.Fatal("new secret refused")
	}
	// Served from memory: the store's copy can change without this
	// directory seeing it until it forgets (as a replica's write would).
	other := New(st, clk, rand.Reader)
	if err := other.RemovePassword(ctx, tid, "application", reg.App.ObjectID, pw.Credential.KeyID); err != nil {
		t.Fatal(err)
	}
	if !secretWorks(d) {
		t.Fatal("the client was read from the store again: not cached")
	}
	d.ForgetCached()
	if secretWorks(d) {
		t.Fatal("a secret removed elsewhere still works after ForgetCached")
	}
	// A change through this directory is seen at once.
	pw, err := d.AddPassword(ctx, reg.App.AppID, PasswordSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if !secretWorks(d) {
		t.Fatal("a secret added here is not seen")
	}
	if err := d.RemovePassword(ctx, tid, "application", reg.App.ObjectID, pw.Credential.KeyID); err != nil {
		t.Fatal(err)
	}
	if secretWorks(d) {
		t.Fatal("a secret removed here still works")
	}
}

// With FollowOtherWriters, a write by another directory on the same store
// (another replica) is seen at the next lookup, cache or not.
func TestFollowOtherWritersSeesChangesAtOnce(t *testing.T) {
	d, st, clk := newDir(t)
	calls := 0
	d.FollowOtherWriters(func(context.Context) error { calls++; return nil })
	ctx := context.Background()
	tid, reg, pw := appWithSecret(t, d)
	works := func() bool {
		t.Helper()
		l, err := d.ClientAndResource(ctx, tid, reg.App.AppID, AzureCLIApp)
		if err != nil || l.ClientErr != nil {
			t.Fatal(err, l.ClientErr)
		}
		_, err = CheckSecret(l.Client.App, pw.Secret, clk.Now())
		return err == nil
	}
	for range 2 { // the second from the cache
		if !works() {
			t.Fatal("secret refused")
		}
	}
	other := New(st, clk, rand.Reader)
	if err := other.RemovePassword(ctx, tid, "application", reg.App.ObjectID, pw.Credential.KeyID); err != nil {
		t.Fatal(err)
	}
	if works() {
		t.Fatal("a secret removed by another writer still works")
	}
	// A change made outside the directory (the clock) is announced the
	// same way, and the hook runs before the lookup goes on.
	before := calls
	if err := st.Update(ctx, func(_ context.Context, tx store.Tx) error { return Touch(tx) }); err != nil {
		t.Fatal(err)
	}
	works()
	if calls != before+1 {
		t.Errorf("the hook ran %d times for one outside change, want 1", calls-before)
	}
	works()
	if calls != before+1 {
		t.Error("the hook ran again with nothing changed")
	}
}

// appWithSecret registers an application with one client secret in the
// first-party tenant it makes.
func appWithSecret(t *testing.T, d *Directory) (string, Registration, NewPassword) {
	t.Helper()
	ctx := context.Background()
	tid := "11111111-2222-3333-4444-555555555555"
	if err := d.EnsureFirstParty(ctx, tid); err != nil {
		t.Fatal(err)
	}
	reg, err := d.CreateApplication(ctx, tid, ApplicationSpec{DisplayName: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	pw, err := d.AddPassword(ctx, reg.App.AppID, PasswordSpec{})
	if err != nil {
		t.Fatal(err)
	}
	return tid, reg, pw
}
