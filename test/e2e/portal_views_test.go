package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"
)

// portalFix is what TestPortal's views should show.
type portalFix struct {
	keyID, appID, appObjectID string
	clusterID, sub            string
	reader                    createdUser
	identity                  uami
}

// portalFixture makes, as the admin principal: an application (with a
// service principal) whose secret ends in 10 days; a user holding Reader
// on the subscription, member of a group; a user-assigned identity bound
// to a host; a managed cluster.
func portalFixture(t *testing.T, in *instance) portalFix {
	t.Helper()
	fx := portalFix{sub: "/subscriptions/" + in.env["AKSID_SUBSCRIPTION_ID"]}
	fx.reader = in.createUser(t, "--name", "reader@aksid.local", "--display-name", "Rita Reader")
	graphTok := getToken(t, in.secretCredential(t, in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"]), "https://graph.microsoft.com/.default").Token
	st, app := in.graph(t, graphTok, "POST", "/v1.0/applications", map[string]any{"displayName": "portal-expiring-app"})
	if st != 201 {
		t.Fatalf("create application: %d %v", st, app)
	}
	fx.appID, fx.appObjectID = app["appId"].(string), app["id"].(string)
	if st, sp := in.graph(t, graphTok, "POST", "/v1.0/servicePrincipals", map[string]any{"appId": fx.appID}); st != 201 {
		t.Fatalf("create service principal: %d %v", st, sp)
	}
	end := time.Now().UTC().Add(10 * 24 * time.Hour).Format(time.RFC3339)
	st, pw := in.graph(t, graphTok, "POST", "/v1.0/applications/"+fx.appObjectID+"/addPassword",
		map[string]any{"passwordCredential": map[string]any{"displayName": "ten-days", "endDateTime": end}})
	fx.keyID, _ = pw["keyId"].(string)
	if st != 200 || fx.keyID == "" {
		t.Fatalf("addPassword: %d %v", st, pw)
	}
	st, g := in.graph(t, graphTok, "POST", "/v1.0/groups", map[string]any{"displayName": "portal-readers", "mailNickname": "portal-readers",
		"mailEnabled": false, "securityEnabled": true})
	if st != 201 {
		t.Fatalf("create group: %d %v", st, g)
	}
	if st, m := in.graph(t, graphTok, "POST", "/v1.0/groups/"+g["id"].(string)+"/members/$ref",
		map[string]string{"@odata.id": in.url + "/v1.0/directoryObjects/" + fx.reader.ID}); st != 204 {
		t.Fatalf("add member: %d %v", st, m)
	}

	for _, ns := range []string{"Microsoft.ContainerService", "Microsoft.ManagedIdentity"} {
		in.armAdmin(t, "POST", fx.sub+"/providers/"+ns+"/register?api-version=2021-04-01", "")
	}
	in.armAdmin(t, "PUT", fx.sub+"/resourceGroups/portal-rg?api-version=2021-04-01", `{"location":"westus2"}`)
	in.armAdmin(t, "PUT", fx.sub+"/providers/Microsoft.Authorization/roleAssignments/"+uuid.NewString()+"?api-version=2022-04-01",
		`{"properties":{"roleDefinitionId":"`+fx.sub+`/providers/Microsoft.Authorization/roleDefinitions/`+readerRole+`","principalId":"`+fx.reader.ID+`","principalType":"User"}}`)
	fx.identity = in.newUAMI(t, "portal-rg", "portal-id")
	hostCreate(t, in, "portal-vm", "--identity", fx.identity.ID)
	fx.clusterID = fx.sub + "/resourceGroups/portal-rg/providers/Microsoft.ContainerService/managedClusters/portal-aks"
	in.armAdmin(t, "PUT", fx.clusterID+"?api-version=2024-05-01", `{"location":"westus2","identity":{"type":"SystemAssigned"},"properties":{"dnsPrefix":"portal-aks"}}`)
	return fx
}

// checkViews opens the users, groups, role assignments, managed
// identities and clusters views and checks that each shows the fixture.
func checkViews(t *testing.T, ctx context.Context, in *instance, fx portalFix, shots, who string) {
	t.Helper()
	navigate(t, ctx, in.url+"/portal/users", chromedp.CSS(`tr[data-upn="reader@aksid.local"]`))
	if got := text(t, ctx, `tr[data-upn="reader@aksid.local"]`); !strings.Contains(got, "Rita Reader") || !strings.Contains(got, "enabled") {
		t.Fatalf("%s: the reader's row: %q", who, got)
	}
	screenshot(t, ctx, shots, "portal-users-"+who+".png")

	navigate(t, ctx, in.url+"/portal/groups", chromedp.CSS(`section[data-group="portal-readers"] tr.member`))
	if got := text(t, ctx, `section[data-group="portal-readers"]`); !strings.Contains(got, "Rita Reader") || !strings.Contains(got, "reader@aksid.local") {
		t.Fatalf("%s: the group's members: %q", who, got)
	}
	screenshot(t, ctx, shots, "portal-groups-"+who+".png")

	scope := `table[data-scope="` + fx.sub + `"]`
	navigate(t, ctx, in.url+"/portal/roles", chromedp.CSS(scope))
	if got := text(t, ctx, scope); !strings.Contains(got, "Reader\tRita Reader\tUser\treader@aksid.local") {
		t.Fatalf("%s: the subscription's assignments: %q", who, got)
	}
	screenshot(t, ctx, shots, "portal-roles-"+who+".png")

	navigate(t, ctx, in.url+"/portal/identities", chromedp.CSS(`tr[data-identity="portal-id"]`))
	if got := text(t, ctx, `tr[data-identity="portal-id"]`); !strings.Contains(got, fx.identity.Properties.ClientID) || !strings.Contains(got, "portal-vm") {
		t.Fatalf("%s: the identity's row: %q", who, got)
	}
	if got := text(t, ctx, `tr[data-host="portal-vm"]`); !strings.Contains(got, "portal-id") {
		t.Fatalf("%s: the host's row: %q", who, got)
	}
	screenshot(t, ctx, shots, "portal-identities-"+who+".png")

	navigate(t, ctx, in.url+"/portal/clusters", chromedp.CSS(`section[data-cluster="portal-aks"]`))
	if got := text(t, ctx, `section[data-cluster="portal-aks"]`); !strings.Contains(got, "System-assigned managed identity") || !strings.Contains(got, "Last cluster check") {
		t.Fatalf("%s: the cluster: %q", who, got)
	}
	screenshot(t, ctx, shots, "portal-clusters-"+who+".png")
}

// press focuses a button and presses Enter, as from the keyboard, then
// waits for what the answer shows.
func press(t *testing.T, ctx context.Context, button, then string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Focus(chromedp.CSS(button)), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(then))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("pressing %s: %v; page says %q", button, err, body)
	}
}

// forcePost enables a disabled button and clicks it, and expects the
// error page to say want.
func forcePost(t *testing.T, ctx context.Context, button, want string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.RemoveAttribute(chromedp.CSS(button), "disabled"), chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitVisible(chromedp.CSS(`p.error`))); err != nil {
		t.Fatalf("forcing %s: %v", button, err)
	}
	if got := text(t, ctx, "main"); !strings.Contains(got, want) {
		t.Fatalf("the forced POST of %s answered %q", button, got)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	got, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(got)
}

func count(t *testing.T, ctx context.Context, sel chromedp.CSS) int {
	t.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(sel, chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	return len(nodes)
}
