package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// fakeOpener puts an xdg-open on a fresh PATH directory that records the
// URL a client asks the desktop to open, as a person's browser would get it.
func fakeOpener(t *testing.T) (dir string, next func() string) {
	t.Helper()
	dir = t.TempDir()
	log := filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + log + "'\n"
	for _, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	seen := 0
	return dir, func() string {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if f, err := os.Open(log); err == nil {
				var lines []string
				sc := bufio.NewScanner(f)
				sc.Buffer(make([]byte, 64<<10), 64<<10)
				for sc.Scan() {
					lines = append(lines, sc.Text())
				}
				f.Close()
				if len(lines) > seen {
					seen++
					return lines[seen-1]
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("the client opened no browser")
		return ""
	}
}

// browserVia is headless Chromium that reaches Azure's hosts through
// aksid's proxy when via is viaProxy (loopback stays direct, as Chromium
// never proxies it).
func browserVia(t *testing.T, in *instance, via string) context.Context {
	if via != viaProxy {
		return browser(t)
	}
	// HTTPS_PROXY as `aksid env` prints it: Chromium speaks HTTP/2 to an
	// https proxy and sends CONNECT on a stream.
	px := parseEnvKeys(t, aksidRun(t, "env", "--data-dir", in.dataDir), "HTTPS_PROXY")
	return browser(t, chromedp.ProxyServer(px["HTTPS_PROXY"]))
}

// signInOnPage completes aksid's sign-in page from the keyboard alone and
// waits until the browser has handed the answer to the client's loopback
// server. It saves a screenshot and returns the page's visible text and
// every URL the browser fetched.
func signInOnPage(t *testing.T, ctx context.Context, authURL string, creds userCreds, shot string) (string, []string) {
	t.Helper()
	fetched := recordFetches(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("username"))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	// Keyboard only: the name field has focus; Tab to the password, Enter
	// submits.
	if err := chromedp.Do(ctx, chromedp.KeyEvent(creds.upn), chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(creds.password), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if err := os.WriteFile(filepath.Join(os.TempDir(), shot), png, 0o644); err == nil {
		t.Logf("screenshot: %s", filepath.Join(os.TempDir(), shot))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && strings.HasPrefix(loc, "http://localhost:") {
			break
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("the browser never reached the client's loopback server; page says %q", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return text, fetched()
}

// TestKubeloginInteractive: kubelogin's interactive mode opens the
// browser at aksid's authorize page (through the proxy on Azure's own host,
// and directly); a person signs in from the keyboard; the page answers the
// loopback server with form_post; kubelogin gets the user's token, which
// Kubernetes accepts. The page shows the app's name and loads nothing
// from outside aksid.
func TestKubeloginInteractive(t *testing.T) {
	in := start(t, "")
	creds := adminUser(t, in)
	clusterID := "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"] + "/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/arc1"
	for _, tc := range []struct {
		via string
		pop bool
	}{{viaProxy, false}, {viaDirect, false}, {viaProxy, true}, {viaDirect, true}} {
		via := tc.via
		name := via
		var extra []string
		if tc.pop {
			name += "/pop"
			extra = []string{"--pop-enabled", "--pop-claims", "u=" + clusterID}
		}
		t.Run(name, func(t *testing.T) {
			dir, opened := fakeOpener(t)
			cmd := in.kubeloginCmd(t, via, "interactive", extra, nil)
			for i, e := range cmd.Env {
				if strings.HasPrefix(e, "PATH=") {
					cmd.Env[i] = "PATH=" + dir + ":" + os.Getenv("PATH")
				}
			}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			authURL := opened()
			wantHost := in.url
			if via == viaProxy {
				wantHost = "https://login.microsoftonline.com"
			}
			if !strings.HasPrefix(authURL, wantHost+"/"+in.env["AZURE_TENANT_ID"]+"/oauth2/v2.0/authorize?") ||
				!strings.Contains(authURL, "response_mode=form_post") || !strings.Contains(authURL, "code_challenge_method=S256") {
				t.Fatalf("kubelogin opened %s", authURL)
			}
			text, fetched := signInOnPage(t, browserVia(t, in, via), authURL, creds, "aksid-signin-"+via+".png")
			if !strings.Contains(text, "Azure Kubernetes Service AAD Client") || !strings.Contains(text, "Sign in") {
				t.Fatalf("page text %q", text)
			}
			for _, u := range fetched {
				if !strings.HasPrefix(u, wantHost+"/") && !strings.HasPrefix(u, "http://localhost:") {
					t.Fatalf("the browser fetched %s", u)
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("kubelogin: %v\n%s", err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("kubelogin did not finish")
			}
			tok := parseExecCredential(t, []byte(stdout.String()))
			if tc.pop {
				// The exec token is kubelogin's signed request around a
				// token bound to its key.
				var cred execCredential
				_ = json.Unmarshal([]byte(stdout.String()), &cred)
				r, _ := verifyPoP(t, tok, clusterID, cred.Status.ExpirationTimestamp)
				tok = r.AccessToken
			}
			c := claimsOf(t, tok)
			in.expectIssuer(t, via, c)
			if c["upn"] != creds.upn || c["idtyp"] != "user" {
				t.Fatalf("token claims %v", c)
			}
			kubeAuthnFor(t, in, via).expectUser(t, tok, c["oid"].(string))
		})
	}
}

// tokenResult is a token a credential got in the background.
type tokenResult struct {
	token string
	err   error
}

// tokenLater asks cred for a token without waiting: interactive
// credentials return only after a person acted in the browser.
func tokenLater(cred azcore.TokenCredential, scope string) <-chan tokenResult {
	got := make(chan tokenResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		tk, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
		got <- tokenResult{tk.Token, err}
	}()
	return got
}

// TestInteractiveBrowserCredential: azidentity's InteractiveBrowserCredential
// (the az CLI's public client by default) signs a person in through the
// same page and gets an ARM token.
func TestInteractiveBrowserCredential(t *testing.T) {
	in := start(t, "")
	creds := adminUser(t, in)
	dir, opened := fakeOpener(t)
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	cred, err := azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
		ClientOptions: in.azOptions(), TenantID: in.env["AZURE_TENANT_ID"], DisableInstanceDiscovery: true, LoginHint: creds.upn})
	if err != nil {
		t.Fatal(err)
	}
	got := tokenLater(cred, armScope)
	authURL := opened()
	if !strings.Contains(authURL, "login_hint=") || !strings.Contains(authURL, "client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46") {
		t.Fatalf("opened %s", authURL)
	}
	// login_hint fills the name: the person types only the password.
	ctx, cancel := context.WithTimeout(browser(t), 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("password"))); err != nil {
		t.Fatal(err)
	}
	name, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("username")))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(creds.password), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if name != creds.upn {
		t.Fatalf("login_hint gave %q", name)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if c := claimsOf(t, r.token); c["upn"] != creds.upn || c["appid"] != "04b07795-8ddb-461a-bbee-02f9e1bf7b46" {
		t.Fatalf("claims %v", c)
	}
}
