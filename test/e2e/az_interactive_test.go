package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAzLoginInBrowser: plain `az login` — on the default AzureCloud
// through the proxy, and in custom-cloud mode with aksid's ADFS-shaped
// authority — opens the browser (BROWSER, as Python's webbrowser reads it)
// at aksid's authorize page; a person signs in; aksid redirects the code
// to az's loopback server (response_mode query, MSAL Python's default);
// az is signed in as the user, sees the subscription and holds the user's
// tokens.
func TestAzLoginInBrowser(t *testing.T) {
	in := start(t, "")
	creds := adminUser(t, in)
	for _, via := range []string{viaProxy, viaDirect} {
		t.Run(via, func(t *testing.T) { azLoginInBrowser(t, in, via, creds) })
	}
}

func azLoginInBrowser(t *testing.T, in *instance, via string, creds userCreds) {
	az, prefix := newProxyAz(t, in), "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?"
	if via == viaDirect {
		az, prefix = newAz(t, in), in.url+"/adfs/oauth2/"
	}
	dir, opened := fakeOpener(t)
	cmd := exec.Command("az", "login", "-o", "none")
	cmd.Env = append(append([]string(nil), az.env...), "BROWSER="+filepath.Join(dir, "xdg-open"), "PATH="+dir+":"+os.Getenv("PATH"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	authURL := opened()
	if !strings.HasPrefix(authURL, prefix) ||
		!strings.Contains(authURL, "client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46") || !strings.Contains(authURL, "redirect_uri=http%3A%2F%2Flocalhost%3A") {
		t.Fatalf("az opened %s", authURL)
	}
	ctx, cancel := context.WithTimeout(browserVia(t, in, via), 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.KeyEvent(creds.upn), chromedp.SendKeys(chromedp.ID("password"), creds.password+"\n")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("az login: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("az login did not finish:\n%s", stderr.String())
	}
	if got := az.ok("account", "show", "--query", "[user.name, user.type, id]", "-o", "tsv"); !strings.Contains(got, creds.upn) ||
		!strings.Contains(got, "user") || !strings.Contains(got, in.env["AKSID_SUBSCRIPTION_ID"]) {
		t.Fatalf("account show: %q", got)
	}
	if tok := az.ok("account", "get-access-token", "--resource", aksServerApp, "--query", "accessToken", "-o", "tsv"); claimsOf(t, tok)["upn"] != creds.upn {
		t.Fatalf("the token az holds is not the user's: %v", claimsOf(t, tok))
	}
}
