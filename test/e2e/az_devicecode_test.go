package e2e

import (
	"bufio"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAzLoginWithDeviceCode: `az login --use-device-code` (custom cloud)
// prints aksid's message; a person completes /devicelogin; az is signed
// in as the user and sees the subscription.
func TestAzLoginWithDeviceCode(t *testing.T) {
	in := start(t, "")
	creds := adminUser(t, in)
	az := newAz(t, in)
	cmd := exec.Command("az", "login", "--use-device-code", "--query", "[0].user.name", "-o", "tsv")
	cmd.Env = az.env
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	codeCh := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`enter the code (\S+) to authenticate`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				codeCh <- m[1]
			}
		}
	}()
	go func() { done <- cmd.Wait() }()
	var code string
	select {
	case code = <-codeCh:
	case err := <-done:
		t.Fatalf("az login ended early: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("az printed no device code")
	}
	ctx, cancel := context.WithTimeout(browser(t), 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(in.url+"/devicelogin"),
		chromedp.SendKeys(chromedp.ID("otc"), code+"\n"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), creds.upn),
		chromedp.SendKeys(chromedp.ID("password"), creds.password+"\n"),
		chromedp.WaitVisible(chromedp.Search("//p[contains(., 'You have signed in')]"))); err != nil {
		t.Fatalf("browser: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("az login: %v", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("az login did not finish")
	}
	if got := strings.TrimSpace(stdout.String()); got != creds.upn {
		t.Fatalf("az login signed in as %q", got)
	}
	if sub := az.ok("account", "show", "--query", "id", "-o", "tsv"); sub != in.env["AKSID_SUBSCRIPTION_ID"] {
		t.Fatalf("account: %q", sub)
	}
}
