package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

type userRow struct {
	UPN     string `json:"userPrincipalName"`
	Locked  bool   `json:"locked"`
	Enabled bool   `json:"accountEnabled"`
	MFA     bool   `json:"requireMfa"`
}

type groupRow struct {
	ID, DisplayName string
	Members         []string
}

type createdUser struct {
	ID               string `json:"id"`
	UPN              string `json:"userPrincipalName"`
	Password         string `json:"password"`
	VerificationCode string `json:"verificationCode"`
}

// forgetReplays removes az's MSAL HTTP cache: MSAL Python replays a
// request that failed with 400 for 60 s without sending it, and this test
// retries the same sign-in after changing the account on the server.
func forgetReplays(t *testing.T, a *azCLI) {
	t.Helper()
	for _, kv := range a.env {
		if dir, ok := strings.CutPrefix(kv, "AZURE_CONFIG_DIR="); ok {
			if err := os.Remove(filepath.Join(dir, "msal_http_cache.bin")); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	}
}

func (in *instance) aksid(t *testing.T, args ...string) string {
	t.Helper()
	return aksidRun(t, append(args, "--data-dir", in.dataDir)...)
}

func (in *instance) createUser(t *testing.T, args ...string) createdUser {
	t.Helper()
	var u createdUser
	out := in.aksid(t, append([]string{"user", "create"}, args...)...)
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.ID == "" {
		t.Fatalf("aksid user create: %s %v", out, err)
	}
	return u
}

// TestAccountStatesWithAzAndCLI: users made with `aksid user create`
// sign in with the real `az login -u -p` (ROPC); an MFA user is refused
// with 50076, a user locked by ten failures with 50053 until `aksid user
// unlock`, a disabled one with 50057 until enabled; groups made with
// `aksid group` (nested, with a service principal) reach the tokens.
func TestAccountStatesWithAzAndCLI(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	ann := in.createUser(t, "--name", "ann@aksid.local", "--display-name", "Ann")
	if len(ann.Password) < 12 || ann.VerificationCode != "" {
		t.Fatalf("generated password: %+v", ann)
	}
	max := in.createUser(t, "--name", "max@aksid.local", "--password", "Max-secret-42", "--require-mfa")
	if len(max.VerificationCode) != 8 || max.Password != "" {
		t.Fatalf("MFA user: %+v", max)
	}

	az := newAz(t, in)
	login := func(u createdUser, pw string) (string, string, bool) {
		forgetReplays(t, az)
		return az.run("login", "-u", u.UPN, "-p", pw, "--allow-no-subscriptions", "-o", "json")
	}
	if out, stderr, ok := login(ann, ann.Password); !ok || !strings.Contains(out, ann.UPN) {
		t.Fatalf("az login as a new user: %s %s", out, stderr)
	}
	az.fails("AADSTS50076", "login", "-u", max.UPN, "-p", "Max-secret-42", "--allow-no-subscriptions")

	form := url.Values{"grant_type": {"password"}, "client_id": {aksClientApp}, "username": {ann.UPN}, "password": {"wrong"},
		"scope": {aksServerApp + "/.default"}}
	for i := 1; i <= 10; i++ {
		st, m := in.postToken(t, tid, form)
		if want := map[bool]int{true: 50053, false: 50126}[i == 10]; st != 400 || errorCode(m) != want {
			t.Fatalf("failure %d: %d %v", i, st, m)
		}
	}
	az.fails("AADSTS50053", "login", "-u", ann.UPN, "-p", ann.Password, "--allow-no-subscriptions")
	var users []userRow
	if err := json.Unmarshal([]byte(in.aksid(t, "user", "list")), &users); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(users, func(u userRow) bool {
		return u.UPN == ann.UPN
	})
	j := slices.IndexFunc(users, func(u userRow) bool {
		return u.UPN == max.UPN
	})
	if i < 0 || j < 0 || !users[i].Locked || !users[i].Enabled || !users[j].MFA || users[j].Locked {
		t.Fatalf("aksid user list: %+v", users)
	}
	in.aksid(t, "user", "unlock", ann.UPN)
	if _, stderr, ok := login(ann, ann.Password); !ok {
		t.Fatalf("after unlock: %s", stderr)
	}

	in.aksid(t, "user", "disable", ann.UPN)
	az.fails("AADSTS50057", "login", "-u", ann.UPN, "-p", ann.Password, "--allow-no-subscriptions")
	in.aksid(t, "user", "enable", ann.UPN)
	in.aksid(t, "user", "set", "--require-mfa=false", max.UPN)
	for _, u := range []struct {
		c  createdUser
		pw string
	}{{ann, ann.Password}, {max, "Max-secret-42"}} {
		if _, stderr, ok := login(u.c, u.pw); !ok {
			t.Fatalf("az login as %s after the change: %s", u.c.UPN, stderr)
		}
	}

	// Groups: nested, with a service principal member.
	var ops, inner struct{ ID string }
	_ = json.Unmarshal([]byte(in.aksid(t, "group", "create", "ops")), &ops)
	_ = json.Unmarshal([]byte(in.aksid(t, "group", "create", "ops-inner")), &inner)
	in.aksid(t, "group", "add-member", "ops-inner", ann.UPN)
	in.aksid(t, "group", "add-member", "ops", "ops-inner")
	in.aksid(t, "group", "add-member", "ops", in.env["AKSID_ADMIN_CLIENT_ID"])
	var groups []groupRow
	if err := json.Unmarshal([]byte(in.aksid(t, "group", "list")), &groups); err != nil {
		t.Fatal(err)
	}
	k := slices.IndexFunc(groups, func(g groupRow) bool {
		return g.DisplayName == "ops"
	})
	if ops.ID == "" || inner.ID == "" || k < 0 || len(groups[k].Members) != 2 || !slices.Contains(groups[k].Members, inner.ID) {
		t.Fatalf("aksid group list: %+v", groups)
	}
	form.Set("password", ann.Password)
	st, m := in.postToken(t, tid, form)
	tok, _ := m["access_token"].(string)
	if st != 200 {
		t.Fatalf("token: %d %v", st, m)
	}
	got, _ := claimsOf(t, tok)["groups"].([]any)
	if len(got) != 2 || !slices.Contains(got, any(ops.ID)) || !slices.Contains(got, any(inner.ID)) {
		t.Fatalf("groups claim %v, want %s and %s", got, ops.ID, inner.ID)
	}

	in.aksid(t, "user", "delete", ann.UPN)
	if st, m := in.postToken(t, tid, form); st != 400 || errorCode(m) != 50034 {
		t.Fatalf("deleted user: %d %v", st, m)
	}

	// A user made with `az ad user create` (Graph) is one like the others.
	admin := newAz(t, in)
	admin.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	zed := createdUser{UPN: "zed@aksid.local"}
	zed.ID = admin.ok("ad", "user", "create", "--display-name", "Zed", "--password", "Zed-secret-9", "--user-principal-name", zed.UPN, "--query", "id", "-o", "tsv")
	if _, stderr, ok := login(zed, "Zed-secret-9"); !ok {
		t.Fatalf("az login as a Graph-made user: %s", stderr)
	}

	// Without a running server the CLI acts on the store.
	in.stop()
	if err := json.Unmarshal([]byte(in.aksid(t, "user", "list")), &users); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(users, func(u userRow) bool { return u.UPN == zed.UPN && u.Enabled }) ||
		slices.ContainsFunc(users, func(u userRow) bool { return u.UPN == ann.UPN }) {
		t.Fatalf("aksid user list offline: %+v", users)
	}
}

// TestGroupOverageWithGraph: a user in 250 groups gets a token (azidentity
// UsernamePasswordCredential, ROPC) with the overage claims instead of
// groups; the claim's endpoint is a Graph getMemberObjects that answers on
// aksid and, like /me/getMemberGroups, returns all 250; Kubernetes still
// authenticates the token as the user.
func TestGroupOverageWithGraph(t *testing.T) {
	in := start(t, "")
	tid := in.env["AZURE_TENANT_ID"]
	u := in.createUser(t, "--name", "olive@aksid.local")
	graph := func(token, method, path string, body any) (int, map[string]any) {
		t.Helper()
		return in.graph(t, token, method, path, body)
	}
	want := map[string]bool{}
	for _, id := range in.joinNewGroups(t, u.ID, 250) {
		want[id] = true
	}

	cred, err := azidentity.NewUsernamePasswordCredential(tid, aksClientApp, u.UPN, u.Password,
		//lint:ignore SA1019 kubelogin's ropc mode uses this credential
		&azidentity.UsernamePasswordCredentialOptions{ClientOptions: in.azOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := getToken(t, cred, aksServerApp+"/.default").Token
	c := claimsOf(t, tok)
	names, _ := c["_claim_names"].(map[string]any)
	sources, _ := c["_claim_sources"].(map[string]any)
	src, _ := sources["src1"].(map[string]any)
	endpoint, _ := src["endpoint"].(string)
	if _, has := c["groups"]; has || names["groups"] != "src1" || endpoint != in.url+"/v1.0/users/"+u.ID+"/getMemberObjects" {
		t.Fatalf("overage claims: groups=%v _claim_names=%v _claim_sources=%v", c["groups"], names, sources)
	}
	newKubeUserAuthenticator(t, in).expectUser(t, tok, u.ID)

	// The user follows the endpoint with a Graph token of their own.
	userGraph := getToken(t, cred, "https://graph.microsoft.com/.default").Token
	for _, path := range []string{endpoint, "/v1.0/me/getMemberGroups", "/v1.0/me/getMemberObjects", "/v1.0/directoryObjects/" + u.ID + "/getMemberGroups"} {
		st, m := graph(userGraph, "POST", path, map[string]bool{"securityEnabledOnly": true})
		vals, _ := m["value"].([]any)
		got := map[string]bool{}
		for _, v := range vals {
			got[v.(string)] = true
		}
		if st != 200 || len(got) != 250 || len(vals) != 250 {
			t.Fatalf("%s: %d, %d IDs", path, st, len(vals))
		}
		for id := range want {
			if !got[id] {
				t.Fatalf("%s misses group %s", path, id)
			}
		}
	}
}

// graph calls aksid's Graph face directly with token.
func (in *instance) graph(t *testing.T, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	target := path
	if !strings.HasPrefix(path, "https://") {
		target = in.url + path
	}
	req, _ := http.NewRequest(method, target, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// joinNewGroups makes n security groups through Graph, as the admin
// principal, with the object a member of each, and returns their IDs.
func (in *instance) joinNewGroups(t *testing.T, objectID string, n int) []string {
	t.Helper()
	admin := getToken(t, in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"]), "https://graph.microsoft.com/.default").Token
	var ids []string
	for i := range n {
		name := fmt.Sprintf("overage-%03d", i)
		st, g := in.graph(t, admin, "POST", "/v1.0/groups", map[string]any{"displayName": name, "mailNickname": name, "mailEnabled": false, "securityEnabled": true})
		id, _ := g["id"].(string)
		if st != 201 || id == "" {
			t.Fatalf("create group %d: %d %v", i, st, g)
		}
		if st, m := in.graph(t, admin, "POST", "/v1.0/groups/"+id+"/members/$ref", map[string]string{"@odata.id": in.url + "/v1.0/directoryObjects/" + objectID}); st != 204 {
			t.Fatalf("add member %d: %d %v", i, st, m)
		}
		ids = append(ids, id)
	}
	return ids
}
