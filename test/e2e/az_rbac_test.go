package e2e

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

const (
	readerRole      = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	contributorRole = "b24988ac-6180-42a0-ab88-20f7382dd24c"
)

// assign creates a role assignment with `az rest` (Debian's az crashes in
// `az role assignment create`) and returns its URL.
func assign(t *testing.T, az *azCLI, scope, roleID, principal, typ string) string {
	t.Helper()
	sub := strings.Split(strings.TrimPrefix(scope, "/subscriptions/"), "/")[0]
	url := scope + "/providers/Microsoft.Authorization/roleAssignments/" + uuid.NewString() + "?api-version=2022-04-01"
	role := roleID
	if !strings.HasPrefix(roleID, "/") {
		role = "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID
	}
	az.ok("rest", "--method", "put", "--url", url, "--body",
		`{"properties":{"roleDefinitionId":"`+role+`","principalId":"`+principal+`","principalType":"`+typ+`"}}`)
	return url
}

// TestAzRBACIsEnforced: a principal's rights follow its role assignments,
// granted and revoked, directly, through a custom role and through a group.
func TestAzRBACIsEnforced(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]
	admin := newAz(t, in)
	admin.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	rg := "/subscriptions/" + sub + "/resourceGroups/rbac-rg"
	admin.ok("group", "create", "-n", "rbac-rg", "-l", "westus2", "-o", "none")

	worker := in.createSP("rbac-worker")
	oid := spObjectID(t, admin, worker.AppID)
	readerURL := assign(t, admin, rg, readerRole, oid, "ServicePrincipal")

	az := newAz(t, in)
	az.loginSP(worker.AppID, worker.Password, tid)
	if name := az.ok("group", "show", "-n", "rbac-rg", "--query", "name", "-o", "tsv"); name != "rbac-rg" {
		t.Fatalf("reader cannot read its group: %q", name)
	}
	az.fails("AuthorizationFailed", "group", "update", "-n", "rbac-rg", "--set", "tags.team=platform")

	contributorURL := assign(t, admin, rg, contributorRole, oid, "ServicePrincipal")
	if tag := az.ok("group", "update", "-n", "rbac-rg", "--set", "tags.team=platform", "--query", "tags.team", "-o", "tsv"); tag != "platform" {
		t.Fatalf("contributor update: %q", tag)
	}
	az.fails("AuthorizationFailed", "group", "create", "-n", "not-mine", "-l", "westus2")
	admin.ok("rest", "--method", "delete", "--url", contributorURL)
	az.fails("AuthorizationFailed", "group", "update", "-n", "rbac-rg", "--set", "tags.team=again")
	admin.ok("rest", "--method", "delete", "--url", readerURL)
	az.fails("AuthorizationFailed", "group", "show", "-n", "rbac-rg")

	// A custom role that may read groups and nothing else.
	roleID := uuid.NewString()
	roleURL := "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID + "?api-version=2022-04-01"
	admin.ok("rest", "--method", "put", "--url", roleURL, "--body", `{"properties":{"roleName":"Group Reader","description":"reads groups",
		"type":"CustomRole","permissions":[{"actions":["Microsoft.Resources/subscriptions/resourceGroups/read"],"notActions":[]}],
		"assignableScopes":["/subscriptions/`+sub+`"]}}`)
	assign(t, admin, rg, "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleDefinitions/"+roleID, oid, "ServicePrincipal")
	az.ok("group", "show", "-n", "rbac-rg", "-o", "none")
	az.fails("AuthorizationFailed", "group", "update", "-n", "rbac-rg", "--set", "tags.team=custom")

	// Through a group: a member gets what the group was given.
	member := in.createSP("rbac-member")
	memberOID := spObjectID(t, admin, member.AppID)
	groupID := admin.ok("ad", "group", "create", "--display-name", "platform-team", "--mail-nickname", "platform-team", "--query", "id", "-o", "tsv")
	admin.ok("ad", "group", "member", "add", "--group", groupID, "--member-id", memberOID)
	assign(t, admin, rg, contributorRole, groupID, "Group")
	maz := newAz(t, in)
	maz.loginSP(member.AppID, member.Password, tid)
	if tag := maz.ok("group", "update", "-n", "rbac-rg", "--set", "tags.team=group", "--query", "tags.team", "-o", "tsv"); tag != "group" {
		t.Fatalf("group member update: %q", tag)
	}
}

// TestRBACPropagationDelay: with --rbac-propagation 60m an assignment
// takes effect only once aksid's clock has moved an hour.
func TestRBACPropagationDelay(t *testing.T) {
	t.Parallel()
	in := start(t, "", "--rbac-propagation", "60m")
	tid, sub := in.env["AZURE_TENANT_ID"], in.env["AKSID_SUBSCRIPTION_ID"]
	admin := newAz(t, in)
	admin.loginSP(in.env["AKSID_ADMIN_CLIENT_ID"], in.env["AKSID_ADMIN_CLIENT_SECRET"], tid)
	admin.ok("group", "create", "-n", "late-rg", "-l", "westus2", "-o", "none")
	worker := in.createSP("late-worker")
	assign(t, admin, "/subscriptions/"+sub+"/resourceGroups/late-rg", readerRole, spObjectID(t, admin, worker.AppID), "ServicePrincipal")
	az := newAz(t, in)
	az.loginSP(worker.AppID, worker.Password, tid)
	az.fails("AuthorizationFailed", "group", "show", "-n", "late-rg")
	aksidRun(t, "clock", "advance", "61m", "--data-dir", in.dataDir)
	az.ok("group", "show", "-n", "late-rg", "-o", "none")
}
