package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestAzOwnersAndGrants: the real az's `ad app|sp|group owner` commands
// and `ad signed-in-user list-owned-objects`, signed in as a user: the
// user who registers an application owns it, owners are added
// (idempotently, as az first lists them), listed and removed; and
// `ad app permission grant` (again, replacing the grant) and `list-grants`.
func TestAzOwnersAndGrants(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	creds := adminUser(t, in)
	az := newAz(t, in)
	az.loginUser(creds.upn, creds.password)
	me := az.ok("ad", "signed-in-user", "show", "--query", "id", "-o", "tsv")
	ids := func(args ...string) []string {
		out := strings.Fields(az.ok(append(args, "--query", "[].id", "-o", "tsv")...))
		slices.Sort(out)
		return out
	}
	sorted := func(v ...string) []string { slices.Sort(v); return v }

	appID := az.ok("ad", "app", "create", "--display-name", "owned-by-me", "--query", "appId", "-o", "tsv")
	appObj := az.ok("ad", "app", "show", "--id", appID, "--query", "id", "-o", "tsv")
	if got := ids("ad", "app", "owner", "list", "--id", appID); !slices.Equal(got, []string{me}) {
		t.Fatalf("owners of a new application %v, want its creator %s", got, me)
	}
	if got := ids("ad", "signed-in-user", "list-owned-objects"); !slices.Equal(got, []string{appObj}) {
		t.Fatalf("list-owned-objects %v, want %s", got, appObj)
	}

	other := az.ok("ad", "user", "create", "--display-name", "Otto", "--user-principal-name", "otto@aksid.local",
		"--password", "Otto-secret-42", "--query", "id", "-o", "tsv")
	for range 2 { // the second add finds Otto listed and sends nothing
		az.ok("ad", "app", "owner", "add", "--id", appID, "--owner-object-id", other)
	}
	if got := ids("ad", "app", "owner", "list", "--id", appID); !slices.Equal(got, sorted(me, other)) {
		t.Fatalf("owners after add %v", got)
	}
	az.fails("does not exist", "ad", "app", "owner", "add", "--id", appID, "--owner-object-id", "0b0b0b0b-0000-4000-8000-000000000000")

	az.ok("ad", "sp", "create", "--id", appID, "-o", "none")
	if got := ids("ad", "sp", "owner", "list", "--id", appID); len(got) != 0 {
		t.Fatalf("owners of the new service principal %v", got)
	}

	group := az.ok("ad", "group", "create", "--display-name", "owned-group", "--mail-nickname", "owned-group", "--query", "id", "-o", "tsv")
	az.ok("ad", "group", "owner", "add", "--group", group, "--owner-object-id", other)
	if got := ids("ad", "group", "owner", "list", "--group", group); !slices.Equal(got, []string{other}) {
		t.Fatalf("group owners %v", got)
	}
	az.ok("ad", "group", "owner", "remove", "--group", group, "--owner-object-id", other)
	if got := ids("ad", "group", "owner", "list", "--group", group); len(got) != 0 {
		t.Fatalf("group owners after remove %v", got)
	}

	apiID := az.ok("ad", "app", "create", "--display-name", "owned-api", "--query", "appId", "-o", "tsv")
	apiSP := az.ok("ad", "sp", "create", "--id", apiID, "--query", "id", "-o", "tsv")
	clientSP := az.ok("ad", "sp", "show", "--id", appID, "--query", "id", "-o", "tsv")
	var grant map[string]any
	az.json(&grant, "ad", "app", "permission", "grant", "--id", appID, "--api", apiID, "--scope", "user_impersonation")
	if grant["clientId"] != clientSP || grant["resourceId"] != apiSP || grant["consentType"] != "AllPrincipals" || grant["scope"] != "user_impersonation" {
		t.Fatalf("permission grant %v", grant)
	}
	az.ok("ad", "app", "permission", "grant", "--id", appID, "--api", apiID, "--scope", "user_impersonation", "read", "-o", "none")
	var grants []map[string]any
	az.json(&grants, "ad", "app", "permission", "list-grants", "--id", appID, "--show-resource-name")
	if len(grants) != 1 || grants[0]["scope"] != "user_impersonation read" || grants[0]["resourceDisplayName"] != "owned-api" {
		t.Fatalf("list-grants after a second grant %v", grants)
	}

	az.ok("ad", "app", "owner", "remove", "--id", appID, "--owner-object-id", other)
	if got := ids("ad", "app", "owner", "list", "--id", appID); !slices.Equal(got, []string{me}) {
		t.Fatalf("owners after remove %v", got)
	}
	apiObj := az.ok("ad", "app", "show", "--id", apiID, "--query", "id", "-o", "tsv")
	if got := ids("ad", "signed-in-user", "list-owned-objects"); !slices.Equal(got, sorted(appObj, apiObj)) {
		t.Fatalf("list-owned-objects with two applications %v", got)
	}
	// Deleting the client application deletes its principal, its grant and
	// its ownership.
	az.ok("ad", "app", "delete", "--id", appID)
	if got := ids("ad", "signed-in-user", "list-owned-objects"); !slices.Equal(got, []string{apiObj}) {
		t.Fatalf("list-owned-objects after the application's deletion %v", got)
	}
	if got := ids("ad", "app", "permission", "list-grants"); len(got) != 0 {
		t.Fatalf("grants after the client's deletion %v", got)
	}
}
