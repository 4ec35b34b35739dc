package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestConsentPromptInBrowser: a tenant's own public client that asks
// ARM's user_impersonation, used by azidentity's
// InteractiveBrowserCredential. Its password sign-in is refused with
// AADSTS65001; in headless Chromium the administrator signs in and meets
// the consent prompt (screenshot saved), accepts it from the keyboard for
// the organization, and the credential gets a token whose scp is the
// consented scope; a user's password sign-in then works too.
func TestConsentPromptInBrowser(t *testing.T) {
	in := start(t, "")
	admin := adminUser(t, in)
	alice := in.createUser(t, "--name", "alice@aksid.local")
	graphTok := in.adminToken(t, "https://graph.microsoft.com/.default")
	st, app := in.graph(t, graphTok, "POST", "/v1.0/applications", map[string]any{"displayName": "orders-cli", "isFallbackPublicClient": true,
		"publicClient": map[string]any{"redirectUris": []string{"http://localhost"}},
		"requiredResourceAccess": []any{map[string]any{"resourceAppId": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
			"resourceAccess": []any{map[string]any{"id": "41094075-9dad-400e-a0bd-54e686782033", "type": "Scope"}}}}})
	if st != 201 {
		t.Fatalf("application: %d %v", st, app)
	}
	clientID := app["appId"].(string)
	if st, sp := in.graph(t, graphTok, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": clientID}); st != 201 {
		t.Fatalf("service principal: %d %v", st, sp)
	}
	tid := in.env["AZURE_TENANT_ID"]
	userCred := func() azcore.TokenCredential {
		cred, err := azidentity.NewUsernamePasswordCredential(tid, clientID, alice.UPN, alice.Password,
			//lint:ignore SA1019 the password grant is where Entra answers AADSTS65001 without consent
			&azidentity.UsernamePasswordCredentialOptions{ClientOptions: in.azOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	if r := <-tokenLater(userCred(), armScope); r.err == nil || !strings.Contains(r.err.Error(), "AADSTS65001") {
		t.Fatalf("a password sign-in without consent: %v", r.err)
	}

	dir, opened := fakeOpener(t)
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	browserCred, err := azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
		ClientOptions: in.azOptions(), TenantID: tid, ClientID: clientID, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	got := tokenLater(browserCred, armScope)
	authURL := opened()
	ctx, cancel := context.WithTimeout(browser(t), 60*time.Second)
	defer cancel()
	fetched := recordFetches(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.KeyEvent(admin.upn), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(admin.password), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`input[name="everyone"]`))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	prompt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		shot := filepath.Join(os.TempDir(), "aksid-consent.png")
		if os.WriteFile(shot, png, 0o644) == nil {
			t.Logf("screenshot: %s", shot)
		}
	}
	if !strings.Contains(prompt, "Permissions requested") || !strings.Contains(prompt, "orders-cli") ||
		!strings.Contains(prompt, "Access Azure Service Management as organization users (user_impersonation)") {
		t.Fatalf("prompt says %q", prompt)
	}
	// Keyboard only: Accept has focus; Shift+Tab reaches the box, Space
	// ticks it, Tab and Enter accept.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(kb.ModifierShift)), chromedp.KeyEvent(" "), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if c := claimsOf(t, r.token); c["appid"] != clientID || c["scp"] != "user_impersonation" || c["upn"] != admin.upn {
		t.Fatalf("claims %v", c)
	}
	for _, u := range fetched() {
		if !strings.HasPrefix(u, in.url) && !strings.HasPrefix(u, "http://localhost:") {
			t.Fatalf("the pages fetched %s", u)
		}
	}
	// Consented for the organization: the user's password sign-in works.
	if r := <-tokenLater(userCred(), armScope); r.err != nil || claimsOf(t, r.token)["scp"] != "user_impersonation" {
		t.Fatalf("a user after the organization's consent: %v", r.err)
	}
}
