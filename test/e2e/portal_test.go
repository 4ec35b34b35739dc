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
// Administrator) has an enabled clock button, which moves the clock; a user
// without the role sees it disabled, and the POST forced through anyway is refused 403, as is one
// without the session's CSRF token. Every URL the browser fetched is
// aksid's. A screenshot of each view is saved.
func TestPortal(t *testing.T) {
	in := start(t, "")
	admin := adminUser(t, in)
	reader := in.createUser(t, "--name", "reader@aksid.local", "--display-name", "Reader")
	graphTok := getToken(t, in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"]), "https://graph.microsoft.com/.default").Token
	st, app := in.graph(t, graphTok, "POST", "/v1.0/applications", map[string]any{"displayName": "portal-expiring-app"})
	if st != 201 {
		t.Fatalf("create application: %d %v", st, app)
	}
	end := time.Now().UTC().Add(10 * 24 * time.Hour).Format(time.RFC3339)
	st, pw := in.graph(t, graphTok, "POST", "/v1.0/applications/"+app["id"].(string)+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "ten-days", "endDateTime": end}})
	keyID, _ := pw["keyId"].(string)
	if st != 200 || keyID == "" {
		t.Fatalf("addPassword: %d %v", st, pw)
	}
	shots := t.TempDir()
	row := chromedp.CSS(`tr[data-key-id="` + keyID + `"]`)

	ctx := browser(t)
	fetched := recordFetches(t, ctx)
	portalSignIn(t, ctx, in, admin)
	if got := attr(t, ctx, row, "class"); got != "expiring" {
		t.Fatalf("a secret ending in 10 days shows %q", got)
	}
	screenshot(t, ctx, shots, "portal-applications.png")

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
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#move")), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("p.note"))); err != nil {
		t.Fatal(err)
	}
	if off := clockOffset(t, aksidRun(t, "clock", "show", "--data-dir", in.dataDir)); off != "288h0m0s" {
		t.Fatalf("after 11 days and the button's 1d the clock's offset is %s", off)
	}

	// A user without the role: the button is there, disabled; forced
	// through anyway (the attributes removed), the POST is refused.
	rctx := browser(t)
	rfetched := recordFetches(t, rctx)
	portalSignIn(t, rctx, in, userCreds{reader.UPN, reader.Password})
	navigate(t, rctx, in.url+"/portal/clock", chromedp.CSS("#move"))
	if !attrExists(t, rctx, chromedp.CSS("#move"), "disabled") {
		t.Fatal("a user without the role has an enabled clock button")
	}
	screenshot(t, rctx, shots, "portal-clock-reader.png")
	before := aksidRun(t, "clock", "show", "--data-dir", in.dataDir)
	if err := chromedp.Do(rctx, chromedp.RemoveAttribute(chromedp.CSS("#advance"), "disabled"), chromedp.RemoveAttribute(chromedp.CSS("#move"), "disabled"),
		chromedp.Click(chromedp.CSS("#move")), chromedp.WaitVisible(chromedp.CSS(`p.error`))); err != nil {
		t.Fatal(err)
	}
	if text, _ := chromedp.Run(rctx, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "Global Administrator") {
		t.Fatalf("the forced POST answered %q", text)
	}
	if after := aksidRun(t, "clock", "show", "--data-dir", in.dataDir); clockOffset(t, after) != clockOffset(t, before) {
		t.Fatalf("the refused POST moved the clock: %s → %s", before, after)
	}
	// Without the session or its CSRF token: 403 too.
	resp, err := in.client.PostForm(in.url+"/portal/clock", url.Values{"advance": {"1d"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("a forged POST: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
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
