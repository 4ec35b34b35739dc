package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// kubeloginDevice runs `kubelogin get-token --login devicecode` and
// returns the user code it prints and a wait for its end (stdout, stderr).
func kubeloginDevice(t *testing.T, in *instance) (string, func() (string, string, error)) {
	t.Helper()
	cmd := exec.Command(kubeloginPath(t), "get-token", "--login", "devicecode", "--server-id", aksServerApp, "--client-id", aksClientApp,
		"--tenant-id", in.env["AZURE_TENANT_ID"], "--authority-host", in.url+"/", "--disable-instance-discovery")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "SSL_CERT_FILE=" + in.env["SSL_CERT_FILE"]}
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var mu sync.Mutex
	var errText strings.Builder
	codeCh := make(chan string, 1)
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`enter the code (\S+) to authenticate`)
		for sc.Scan() {
			mu.Lock()
			errText.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				codeCh <- m[1]
			}
		}
	}()
	var code string
	select {
	case code = <-codeCh:
	case <-time.After(30 * time.Second):
		t.Fatal("kubelogin printed no device code")
	}
	return code, func() (string, string, error) {
		done := make(chan error, 1)
		go func() { <-read; done <- cmd.Wait() }()
		select {
		case err := <-done:
			mu.Lock()
			defer mu.Unlock()
			return stdout.String(), errText.String(), err
		case <-time.After(30 * time.Second):
			t.Fatal("kubelogin did not finish")
		}
		return "", "", nil
	}
}

// signInOnDevicePage types the code, the name and the password on
// /devicelogin (keyboard only) and returns the page's text.
func signInOnDevicePage(t *testing.T, ctx context.Context, in *instance, code, upn, password string, more ...chromedp.Action[chromedp.Void]) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(in.url + "/devicelogin"),
		chromedp.WaitVisible(chromedp.ID("otc")),
		chromedp.SendKeys(chromedp.ID("otc"), code+"\n"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), upn),
		chromedp.SendKeys(chromedp.ID("password"), password+"\n"),
	}
	if err := chromedp.Do(ctx, append(steps, more...)...); err != nil {
		t.Fatalf("browser: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// TestConditionalAccessBlocksDeviceCode: `aksid policy block-device-code
// --users` blocks one user's device-code sign-in: the /devicelogin page
// (headless Chromium) shows AADSTS53003 after the password and kubelogin's
// devicecode mode fails with AADSTS53003, while `kubelogin --login ropc`
// for the same user still works; an MFA user completes the device page
// with the verification code and gets amr pwd+mfa.
func TestConditionalAccessBlocksDeviceCode(t *testing.T) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	cara := in.createUser(t, "--name", "cara@aksid.local", "--password", "Cara-secret-7")
	var pol struct {
		ID    string
		Users []string
	}
	if err := json.Unmarshal([]byte(in.aksid(t, "policy", "block-device-code", "--users", cara.UPN)), &pol); err != nil || pol.ID == "" ||
		!slices.Equal(pol.Users, []string{cara.ID}) {
		t.Fatalf("policy: %+v %v", pol, err)
	}
	if list := in.aksid(t, "policy", "list"); !strings.Contains(list, pol.ID) {
		t.Fatalf("aksid policy list: %s", list)
	}

	ctx := browser(t)
	// Start Chromium on the test's context, so that each step's timeout
	// ends the step and not the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	code, wait := kubeloginDevice(t, in)
	text := signInOnDevicePage(t, ctx, in, code, cara.UPN, "Cara-secret-7",
		chromedp.WaitVisible(chromedp.Search("//p[contains(., 'AADSTS53003')]")))
	if !strings.Contains(text, "Access has been blocked by Conditional Access policies") {
		t.Fatalf("page text: %q", text)
	}
	// kubelogin stops polling at the refusal. (MSAL Go reads the body of
	// every 400 while polling to look for authorization_pending, so
	// azidentity's message shows the status but no longer the body.)
	stdout, stderr, err := wait()
	if err == nil || stdout != "" || !strings.Contains(stderr, "RESPONSE 400") || !strings.Contains(stderr, "/oauth2/v2.0/token") {
		t.Fatalf("kubelogin devicecode for a blocked user: err=%v\nstdout %s\nstderr %s", err, stdout, stderr)
	}
	// What the device is told, polled by hand: Entra's 53003.
	resp, err := in.client.PostForm(in.url+"/"+tid+"/oauth2/v2.0/devicecode", url.Values{"client_id": {aksClientApp}, "scope": {aksServerApp + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	var dc struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&dc)
	resp.Body.Close()
	signInOnDevicePage(t, ctx, in, dc.UserCode, cara.UPN, "Cara-secret-7", chromedp.WaitVisible(chromedp.Search("//p[contains(., 'AADSTS53003')]")))
	st, m := in.postToken(t, tid, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {aksClientApp}, "device_code": {dc.DeviceCode}})
	if desc, _ := m["error_description"].(string); st != 400 || errorCode(m) != 53003 || m["error"] != "interaction_required" ||
		!strings.HasPrefix(desc, "AADSTS53003: Access has been blocked by Conditional Access policies.") {
		t.Fatalf("device polling after a blocked sign-in: %d %v", st, m)
	}

	ropc := exec.Command(kubeloginPath(t), "get-token", "--login", "ropc", "--server-id", aksServerApp, "--client-id", aksClientApp,
		"--tenant-id", tid, "--username", cara.UPN, "--password", "Cara-secret-7",
		"--authority-host", in.url+"/", "--disable-instance-discovery")
	ropc.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "SSL_CERT_FILE=" + in.env["SSL_CERT_FILE"]}
	out, err := ropc.Output()
	var ec struct{ Status struct{ Token string } }
	if err != nil || json.Unmarshal(out, &ec) != nil || claimsOf(t, ec.Status.Token)["oid"] != cara.ID {
		t.Fatalf("kubelogin ropc for the blocked user: %v %s", err, out)
	}

	// An MFA user, not named by the policy: password, then the code.
	mia := in.createUser(t, "--name", "mia@aksid.local", "--password", "Mia-secret-8", "--require-mfa")
	wrong := string('0'+(mia.VerificationCode[0]-'0'+1)%10) + mia.VerificationCode[1:]
	code, wait = kubeloginDevice(t, in)
	text = signInOnDevicePage(t, ctx, in, code, mia.UPN, "Mia-secret-8",
		chromedp.WaitVisible(chromedp.ID("verification")),
		chromedp.SendKeys(chromedp.ID("verification"), wrong+"\n"),
		chromedp.WaitVisible(chromedp.Search("//p[contains(., 'AADSTS500121')]")),
		chromedp.SendKeys(chromedp.ID("verification"), mia.VerificationCode+"\n"),
		chromedp.WaitVisible(chromedp.Search("//p[contains(., 'You have signed in')]")))
	stdout, stderr, err = wait()
	if err != nil || json.Unmarshal([]byte(stdout), &ec) != nil {
		t.Fatalf("kubelogin devicecode for the MFA user: %v %s %s (page %q)", err, stdout, stderr, text)
	}
	c := claimsOf(t, ec.Status.Token)
	if amr, _ := c["amr"].([]any); c["oid"] != mia.ID || !slices.Equal(amr, []any{"pwd", "mfa"}) {
		t.Fatalf("MFA user's token: %v", c)
	}

	// Deleting the policy lets the device flow through again.
	in.aksid(t, "policy", "delete", pol.ID)
	code, wait = kubeloginDevice(t, in)
	signInOnDevicePage(t, ctx, in, code, cara.UPN, "Cara-secret-7",
		chromedp.WaitVisible(chromedp.Search("//p[contains(., 'You have signed in')]")))
	if stdout, stderr, err := wait(); err != nil || !strings.Contains(stdout, "token") {
		t.Fatalf("after the policy was deleted: %v %s %s", err, stdout, stderr)
	}
}

// TestInteractiveSignInWithMFAUnderDeviceCodeBlock: with the device-code
// flow blocked for everyone, azidentity's InteractiveBrowserCredential
// still signs an MFA user in on aksid's sign-in page (headless Chromium,
// keyboard only): the password, then the verification code; the token's
// amr is pwd+mfa.
func TestInteractiveSignInWithMFAUnderDeviceCodeBlock(t *testing.T) {
	in := start(t, "")
	in.aksid(t, "policy", "block-device-code", "--all")
	nia := in.createUser(t, "--name", "nia@aksid.local", "--password", "Nia-secret-3", "--require-mfa")
	dir, opened := fakeOpener(t)
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	cred, err := azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
		ClientOptions: in.azOptions(), TenantID: in.env["AZURE_TENANT_ID"], DisableInstanceDiscovery: true, LoginHint: nia.UPN})
	if err != nil {
		t.Fatal(err)
	}
	got := tokenLater(cred, armScope)
	authURL := opened()
	bctx := browser(t)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	err = chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.KeyEvent("Nia-secret-3"), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("verification")),
		chromedp.KeyEvent(nia.VerificationCode), chromedp.KeyEvent(kb.Enter))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	c := claimsOf(t, r.token)
	if amr, _ := c["amr"].([]any); c["oid"] != nia.ID || !slices.Equal(amr, []any{"pwd", "mfa"}) {
		t.Fatalf("claims %v", c)
	}
}
