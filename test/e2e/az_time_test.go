package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// TestAzCredentialsFollowAksidClock: after `aksid clock advance 366d` a
// default secret fails, az shows its endDateTime in the past, `az ad app
// credential reset` gives a secret valid for a year of aksid's time, and
// the tokens it gets still validate in MSAL and Kubernetes.
func TestAzCredentialsFollowAksidClock(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	az := newAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	var sp struct{ AppID, Password string }
	az.json(&sp, "ad", "sp", "create-for-rbac", "--name", "ttl-app")

	var clk struct{ Now time.Time }
	if err := json.Unmarshal([]byte(aksidRun(t, "clock", "advance", "366d", "--data-dir", in.dataDir)), &clk); err != nil {
		t.Fatal(err)
	}
	if st, m := in.rawToken(sp.AppID, sp.Password, aksServerApp+"/.default"); st != 401 || errorCode(m) != 7000222 {
		t.Fatalf("a year-old secret: %d %v", st, m)
	}
	ends := strings.Fields(az.ok("ad", "app", "credential", "list", "--id", sp.AppID, "--query", "[].endDateTime", "-o", "tsv"))
	if len(ends) != 1 {
		t.Fatalf("credentials: %v", ends)
	}
	if end, err := time.Parse(time.RFC3339, ends[0]); err != nil || !end.Before(clk.Now) {
		t.Fatalf("endDateTime %s is not in aksid's past (%s): %v", ends[0], clk.Now, err)
	}

	secret := az.ok("ad", "app", "credential", "reset", "--id", sp.AppID, "--query", "password", "-o", "tsv")
	ends = strings.Fields(az.ok("ad", "app", "credential", "list", "--id", sp.AppID, "--query", "[].endDateTime", "-o", "tsv"))
	if len(ends) != 1 {
		t.Fatalf("reset must replace the credential: %v", ends)
	}
	end, err := time.Parse(time.RFC3339, ends[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := end.Sub(clk.Now); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Fatalf("the reset secret ends %s, not a year after aksid's now %s", end, clk.Now)
	}

	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	client, err := confidential.New(in.url+"/"+tid, sp.AppID, cred, confidential.WithInstanceDiscovery(false), confidential.WithHTTPClient(in.client))
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.AcquireTokenByCredential(context.Background(), []string{aksServerApp + "/.default"})
	if err != nil {
		t.Fatalf("MSAL with the reset secret: %v", err)
	}
	if d := time.Until(res.ExpiresOn); d < 55*time.Minute || d > 2*time.Hour {
		t.Fatalf("token expiry %v is not in the wall frame", res.ExpiresOn)
	}
	newKubeAuthenticator(t, in).expectUser(t, res.AccessToken, claimsOf(t, res.AccessToken)["oid"].(string))
}
