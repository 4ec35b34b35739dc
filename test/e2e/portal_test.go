package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestPortal: aksid's URL in headless Chromium is the portal. A person
// signs in from the keyboard on aksid's own sign-in page (the portal is
// an OAuth client of aksid: code with PKCE) and lands on the applications
// view, where a secret ending in 10 days of aksid's clock is expiring, and
// after `aksid clock advance 11d` expired. The admin (Global
// Administrator, Owner of the subscription) sees every view (users,
// groups and members, role assignments by scope, managed identities and
// their hosts, clusters with their identities and last check), moves the
// clock, runs a cluster check and resets a secret with the buttons, from
// the keyboard. A Reader sees the views and every button that needs a
// writer disabled; forced through anyway, each POST is refused and
// changes nothing, as is one without the session's CSRF token. Every URL
// the browser fetched is aksid's. A screenshot of each view is saved.
func TestPortal(t *testing.T) {
	in := start(t, "")
	admin := adminUser(t, in)
	fx := portalFixture(t, in)
	row := chromedp.CSS(`tr[data-key-id="` + fx.keyID + `"]`)
	shots := t.ArtifactDir() // kept with -artifacts (make test keeps them in artifacts/)

	ctx := browser(t)
	fetched := recordFetches(t, ctx)
	portalSignIn(t, ctx, in, admin)
	if got := attr(t, ctx, row, "class"); got != "expiring" {
		t.Fatalf("a secret ending in 10 days shows %q", got)
	}
	if attrExists(t, ctx, chromedp.CSS(`form[data-app="portal-expiring-app"] button`), "disabled") {
		t.Fatal("the Global Administrator's reset button is disabled")
	}
	screenshot(t, ctx, shots, "portal-applications.png")
	checkViews(t, ctx, in, fx, shots, "admin")

	navigate(t, ctx, in.url+"/portal/clock", chromedp.CSS("#move"))
	if attrExists(t, ctx, chromedp.CSS("#move"), "disabled") {
		t.Fatal("the Global Administrator's clock button is disabled")
	}
	screenshot(t, ctx, shots, "portal-clock-admin.png")

	aksidRun(t, "clock", "advance", "11d", "--data-dir", in.dataDir)
	navigate(t, ctx, in.url+"/", row)
	if got := attr(t, ctx, row, "class"); got != "expired" {
		t.Fatalf("after 11 days the secret shows %q", got)
	}
	screenshot(t, ctx, shots, "portal-applications-11d.png")

	// The admin moves the clock with the button, from the keyboard.
	navigate(t, ctx, in.url+"/portal/clock", chromedp.CSS("#move"))
	press(t, ctx, "#move", "p.note")
	if off := clockOffset(t, aksidRun(t, "clock", "show", "--data-dir", in.dataDir)); off != "288h0m0s" {
		t.Fatalf("after 11 days and the button's 1d the clock's offset is %s", off)
	}

	// The admin runs the cluster check: the cluster's own identity owns
	// its node resource group, so it passes, and the view says when.
	cluster := `section[data-cluster="portal-aks"]`
	navigate(t, ctx, in.url+"/portal/clusters", chromedp.CSS(cluster+" button.check"))
	press(t, ctx, cluster+" button.check", "p.note")
	if got := text(t, ctx, cluster+" .last-check"); !strings.HasPrefix(got, "passed at ") {
		t.Fatalf("after the check the cluster shows %q", got)
	}
	if got := text(t, ctx, cluster+" table.check"); !strings.Contains(got, "public-ip") || !strings.Contains(got, "load-balancer") {
		t.Fatalf("the check's outcome: %q", got)
	}
	screenshot(t, ctx, shots, "portal-clusters-checked.png")

	// The admin resets the expired secret: the new one is shown once and
	// works; the old one is gone.
	navigate(t, ctx, in.url+"/", row)
	press(t, ctx, `form[data-app="portal-expiring-app"] button`, "#secret")
	secret := text(t, ctx, "#secret")
	screenshot(t, ctx, shots, "portal-secret-reset.png")
	if st, body := in.rawToken(fx.appID, secret, armScope); st != 200 {
		t.Fatalf("the portal's new secret: %d %v", st, body)
	}
	navigate(t, ctx, in.url+"/", chromedp.CSS(`form[data-app="portal-expiring-app"]`))
	if n := count(t, ctx, row); n != 0 {
		t.Fatal("the reset kept the old secret")
	}

	// A Reader: the views, with every writer's button disabled; forced
	// through anyway (the attributes removed), each POST is refused.
	rctx := browser(t)
	rfetched := recordFetches(t, rctx)
	portalSignIn(t, rctx, in, userCreds{fx.reader.UPN, fx.reader.Password})
	if !attrExists(t, rctx, chromedp.CSS(`form[data-app="portal-expiring-app"] button`), "disabled") {
		t.Fatal("a Reader has an enabled reset button")
	}
	screenshot(t, rctx, shots, "portal-applications-reader.png")
	checkViews(t, rctx, in, fx, shots, "reader")
	navigate(t, rctx, in.url+"/portal/clusters", chromedp.CSS(cluster+" button.check"))
	if !attrExists(t, rctx, chromedp.CSS(cluster+" button.check"), "disabled") {
		t.Fatal("a Reader has an enabled cluster check button")
	}
	lastCheck := text(t, rctx, cluster+" .last-check")
	forcePost(t, rctx, cluster+" button.check", "Microsoft.ContainerService/managedClusters/write")
	navigate(t, rctx, in.url+"/portal/clusters", chromedp.CSS(cluster+" .last-check"))
	if got := text(t, rctx, cluster+" .last-check"); got != lastCheck {
		t.Fatalf("the Reader's refused check ran: %q → %q", lastCheck, got)
	}
	navigate(t, rctx, in.url+"/", chromedp.CSS(`form[data-app="portal-expiring-app"]`))
	keys := text(t, rctx, "main")
	forcePost(t, rctx, `form[data-app="portal-expiring-app"] button`, "Global Administrator")
	navigate(t, rctx, in.url+"/", chromedp.CSS(`form[data-app="portal-expiring-app"]`))
	if got := text(t, rctx, "main"); got != keys {
		t.Fatal("the Reader's refused reset changed the applications")
	}
	navigate(t, rctx, in.url+"/portal/clock", chromedp.CSS("#move"))
	if !attrExists(t, rctx, chromedp.CSS("#move"), "disabled") {
		t.Fatal("a user without the role has an enabled clock button")
	}
	screenshot(t, rctx, shots, "portal-clock-reader.png")
	before := aksidRun(t, "clock", "show", "--data-dir", in.dataDir)
	if err := chromedp.Do(rctx, chromedp.RemoveAttribute(chromedp.CSS("#advance"), "disabled")); err != nil {
		t.Fatal(err)
	}
	forcePost(t, rctx, "#move", "Global Administrator")
	if after := aksidRun(t, "clock", "show", "--data-dir", in.dataDir); clockOffset(t, after) != clockOffset(t, before) {
		t.Fatalf("the refused POST moved the clock: %s → %s", before, after)
	}
	// Without the session or its CSRF token: 403 too.
	for _, path := range []string{"/portal/clock", "/portal/clusters/check", "/portal/applications/reset"} {
		resp, err := in.client.PostForm(in.url+path, url.Values{"advance": {"1d"}, "cluster": {fx.clusterID}, "app": {fx.appObjectID}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("a forged POST to %s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}

	for _, u := range append(fetched(), rfetched()...) {
		if !strings.HasPrefix(u, in.url+"/") {
			t.Fatalf("the browser fetched %s", u)
		}
	}
}

// portalSignIn opens the portal, signs in on aksid's page from the
// keyboard (name, Tab, password, Enter) and waits for the applications.
func portalSignIn(t *testing.T, ctx context.Context, in *instance, creds userCreds) {
	t.Helper()
	navigate(t, ctx, in.url+"/", chromedp.CSS("#username"))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, in.url+"/"+in.env["AZURE_TENANT_ID"]+"/oauth2/v2.0/authorize?") ||
		!strings.Contains(loc, "code_challenge_method=S256") {
		t.Fatalf("the portal sent the browser to %s", loc)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.KeyEvent(creds.upn), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(creds.password), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`nav a[aria-current=page]`))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("signing in: %v; page says %q", err, body)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != in.url+"/" {
		t.Fatalf("after signing in the browser is at %s", loc)
	}
}

func navigate(t *testing.T, ctx context.Context, u string, wait chromedp.CSS) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(u), chromedp.WaitVisible(wait)); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("opening %s: %v; page says %q", u, err, body)
	}
}

func attr(t *testing.T, ctx context.Context, sel chromedp.CSS, name string) string {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name))
	if err != nil {
		t.Fatal(err)
	}
	return r.Value
}

func attrExists(t *testing.T, ctx context.Context, sel chromedp.CSS, name string) bool {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name))
	if err != nil {
		t.Fatal(err)
	}
	return r.Exists
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

// clockOffset is the offset `aksid clock show` prints.
func clockOffset(t *testing.T, out string) string {
	t.Helper()
	var c struct{ Offset string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Offset == "" {
		t.Fatalf("aksid clock show: %q %v", out, err)
	}
	return c.Offset
}
