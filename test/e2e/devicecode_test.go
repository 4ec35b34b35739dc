package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (Debian's) for a test.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: `make test` installs Debian's chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.NoFirstRun,
		// The test's own CA is not in Chromium's store; the page is the test's subject, not TLS.
		chromedp.Flag("ignore-certificate-errors", true), chromedp.UserDataDir(t.TempDir()))
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	return ctx
}

// recordFetches notes every URL the browser requests from now on; the
// returned function reads them.
func recordFetches(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	var mu sync.Mutex
	var fetched []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			fetched = append(fetched, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(fetched)
	}
}

// TestDeviceCodeWithBrowser: kubelogin's devicecode mode (through the
// proxy with AKS's own arguments, and directly) prints aksid's message; a
// person (headless Chromium, keyboard only) opens /devicelogin, types the
// code, signs in and continues; kubelogin gets the user's token, which
// Kubernetes accepts. The page fetches nothing but itself.
func TestDeviceCodeWithBrowser(t *testing.T) {
	in := start(t, "")
	creds := adminUser(t, in)
	for _, via := range []string{viaProxy, viaDirect} {
		t.Run(via, func(t *testing.T) { deviceCodeWithBrowser(t, in, via, creds) })
	}
}

func deviceCodeWithBrowser(t *testing.T, in *instance, via string, creds userCreds) {
	base := in.url
	if via == viaProxy {
		base = "https://login.microsoftonline.com"
	}
	cmd := in.kubeloginCmd(t, via, "devicecode", nil, nil)
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	codeCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`open the page (\S+) and enter the code (\S+) to authenticate`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				codeCh <- m[2]
				if m[1] != base+"/devicelogin" {
					t.Errorf("verification URI %s", m[1])
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { done <- cmd.Wait() }()
	var code string
	select {
	case code = <-codeCh:
	case <-time.After(30 * time.Second):
		t.Fatal("kubelogin printed no device code")
	}

	ctx := browserVia(t, in, via)
	fetched := recordFetches(t, ctx)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/devicelogin"),
		chromedp.WaitVisible(chromedp.ID("otc")),
		chromedp.SendKeys(chromedp.ID("otc"), code+"\n"), // keyboard only: Enter submits
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), creds.upn),
		chromedp.SendKeys(chromedp.ID("password"), creds.password+"\n"),
		chromedp.WaitVisible(chromedp.Search("//p[contains(., 'You have signed in')]")))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shotPath := filepath.Join(os.TempDir(), "aksid-devicelogin-"+via+".png")
	_ = os.WriteFile(shotPath, shot, 0o644)
	t.Logf("screenshot: %s", shotPath)
	if !strings.Contains(text, "You have signed in to Azure Kubernetes Service AAD Client on your device") {
		t.Fatalf("page text: %q", text)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("kubelogin: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kubelogin did not finish")
	}
	tok := parseExecCredential(t, []byte(stdout.String()))
	c := claimsOf(t, tok)
	in.expectIssuer(t, via, c)
	if c["upn"] != creds.upn || c["idtyp"] != "user" {
		t.Fatalf("device-code token: %v", c)
	}
	kubeAuthnFor(t, in, via).expectUser(t, tok, c["oid"].(string))
	for _, u := range fetched() {
		if !strings.HasPrefix(u, base+"/") {
			t.Fatalf("the page fetched %s", u)
		}
	}
}

// TestDeviceCodeCredential: azidentity's DeviceCodeCredential (the az
// CLI's public client, tenant organizations by default) shows aksid's
// prompt; the person completes /devicelogin; the credential gets an ARM
// token for the user.
func TestDeviceCodeCredential(t *testing.T) {
	in := start(t, "")
	creds := adminUser(t, in)
	prompts := make(chan azidentity.DeviceCodeMessage, 1)
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{ClientOptions: in.azOptions(),
		DisableInstanceDiscovery: true, UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			prompts <- m
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	got := tokenLater(cred, armScope)
	var m azidentity.DeviceCodeMessage
	select {
	case m = <-prompts:
	case r := <-got:
		t.Fatalf("no prompt: %v", r.err)
	}
	if m.VerificationURL != in.url+"/devicelogin" || !strings.Contains(m.Message, m.UserCode) {
		t.Fatalf("prompt %+v", m)
	}
	ctx, cancel := context.WithTimeout(browser(t), 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(m.VerificationURL), chromedp.WaitVisible(chromedp.ID("otc")),
		chromedp.SendKeys(chromedp.ID("otc"), m.UserCode+"\n"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), creds.upn), chromedp.SendKeys(chromedp.ID("password"), creds.password+"\n"),
		chromedp.WaitVisible(chromedp.Search("//p[contains(., 'You have signed in')]"))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if c := claimsOf(t, r.token); c["upn"] != creds.upn || c["aud"] != "https://management.core.windows.net/" {
		t.Fatalf("claims %v", c)
	}
}
