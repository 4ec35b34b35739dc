package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

const aksClientApp = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"

// TestUserSignInWithPassword: users sign in with the password grant
// (after MSAL's UserRealm question) through azidentity, MSAL Go, kubelogin
// `--login ropc` and `az login -u -p`; tokens carry the user and their
// groups, Kubernetes accepts them; refresh tokens rotate and reach other
// resources; bad passwords and unknown users get Entra's codes.
func TestUserSignInWithPassword(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	creds := adminUser(t, in)

	// A group for the user, made with az, to see it in the tokens.
	az := newAz(t, in)
	az.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	oid := az.ok("ad", "user", "show", "--id", creds.upn, "--query", "id", "-o", "tsv")
	group := az.ok("ad", "group", "create", "--display-name", "cluster-admins", "--mail-nickname", "cluster-admins", "--query", "id", "-o", "tsv")
	az.ok("ad", "group", "member", "add", "--group", group, "--member-id", oid)

	cred, err := azidentity.NewUsernamePasswordCredential(tid, aksClientApp, creds.upn, creds.password,
		//lint:ignore SA1019 the issue asks for this credential: kubelogin's ropc mode uses it
		&azidentity.UsernamePasswordCredentialOptions{ClientOptions: in.azOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := getToken(t, cred, aksServerApp+"/.default")
	c := claimsOf(t, tok.Token)
	groups, _ := c["groups"].([]any)
	if c["idtyp"] != "user" || c["upn"] != creds.upn || c["oid"] != oid || c["appid"] != aksClientApp || len(groups) != 1 || groups[0] != group {
		t.Fatalf("user token: %v", c)
	}
	newKubeAuthenticator(t, in).expectUser(t, tok.Token, oid)

	// MSAL Go: password, then a silent token for another resource through
	// the refresh token.
	client, err := public.New("04b07795-8ddb-461a-bbee-02f9e1bf7b46", public.WithAuthority(in.url+"/"+tid),
		public.WithInstanceDiscovery(false), public.WithHTTPClient(in.client))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	//lint:ignore SA1019 ROPC is one of the flows aksid serves
	res, err := client.AcquireTokenByUsernamePassword(ctx, []string{armScope}, creds.upn, creds.password)
	if err != nil {
		t.Fatal(err)
	}
	graph, err := client.AcquireTokenSilent(ctx, []string{"https://graph.microsoft.com/.default"}, public.WithSilentAccount(res.Account))
	if err != nil || claimsOf(t, graph.AccessToken)["aud"] != "https://graph.microsoft.com" {
		t.Fatalf("silent Graph token through the refresh token: %v", err)
	}

	// Refresh tokens rotate: each works once.
	form := url.Values{"grant_type": {"password"}, "client_id": {aksClientApp}, "username": {creds.upn}, "password": {creds.password},
		"scope": {aksServerApp + "/.default offline_access openid"}}
	st, m := in.postToken(t, tid, form)
	rt, _ := m["refresh_token"].(string)
	if st != 200 || rt == "" || m["id_token"] == nil || m["scope"] != aksServerApp+"/.default" {
		t.Fatalf("password grant: %d %v", st, m)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {aksClientApp}, "refresh_token": {rt}}
	if st, m := in.postToken(t, tid, refresh); st != 200 || m["refresh_token"] == rt {
		t.Fatalf("refresh: %d %v", st, m)
	}
	if st, m := in.postToken(t, tid, refresh); st != 400 || errorCode(m) != 9002313 {
		t.Fatalf("a rotated refresh token still works: %d %v", st, m)
	}
	form.Set("password", "wrong")
	if st, m := in.postToken(t, tid, form); st != 400 || errorCode(m) != 50126 {
		t.Fatalf("wrong password: %d %v", st, m)
	}
	form.Set("username", "nobody@aksid.local")
	if st, m := in.postToken(t, tid, form); st != 400 || errorCode(m) != 50034 {
		t.Fatalf("unknown user: %d %v", st, m)
	}

	// kubelogin --login ropc, directly.
	cmd := exec.Command(kubeloginPath(t), "get-token", "--login", "ropc", "--server-id", aksServerApp, "--client-id", aksClientApp,
		"--tenant-id", tid, "--username", creds.upn, "--password", creds.password,
		"--authority-host", in.url+"/", "--disable-instance-discovery")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "SSL_CERT_FILE=" + in.env["SSL_CERT_FILE"]}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubelogin ropc: %v", err)
	}
	var ec struct{ Status struct{ Token string } }
	if err := json.Unmarshal(out, &ec); err != nil || claimsOf(t, ec.Status.Token)["upn"] != creds.upn {
		t.Fatalf("kubelogin ropc token: %s %v", out, err)
	}

	// az login with a user (custom cloud, ADFS authority).
	user := newAz(t, in)
	var accounts []struct {
		ID   string
		User struct{ Name, Type string }
	}
	user.json(&accounts, "login", "-u", creds.upn, "-p", creds.password)
	if len(accounts) != 1 || accounts[0].User.Type != "user" || accounts[0].User.Name != creds.upn || accounts[0].ID != in.env["AKSID_SUBSCRIPTION_ID"] {
		t.Fatalf("az login -u -p: %+v", accounts)
	}
	if name := user.ok("group", "create", "-n", "by-a-user", "-l", "westus2", "--query", "name", "-o", "tsv"); name != "by-a-user" {
		t.Fatalf("the Owner user cannot create a group: %q", name)
	}
}

type userCreds struct{ upn, password string }

// adminUser reads the bootstrap admin user's sign-in from serve's banner.
func adminUser(t *testing.T, in *instance) userCreds {
	t.Helper()
	out := aksidRun(t, "user", "show-admin", "--data-dir", in.dataDir)
	var c struct{ UPN, Password string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.UPN == "" {
		t.Fatalf("aksid user show-admin: %s %v", out, err)
	}
	return userCreds{c.UPN, c.Password}
}

func (in *instance) postToken(t *testing.T, tid string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := in.client.PostForm(in.url+"/"+tid+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}
