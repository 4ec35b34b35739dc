package arm

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/rbac"
	"github.com/google/uuid"
)

// A subscription's role assignments come a page at a time, each page's
// nextLink resuming where it ended: every assignment once, none missed.
func TestRoleAssignmentsPageByNextLink(t *testing.T) {
	defer func(n int) { assignmentPageSize = n }(assignmentPageSize)
	assignmentPageSize = 3
	a := newARMTest(t, grants{"admin": {"Microsoft.Authorization/roleAssignments/read"}})
	sub := "/subscriptions/" + testSub
	var want []string
	for i := range 10 {
		scope := sub
		if i > 0 {
			scope = fmt.Sprintf("%s/resourceGroups/rg%d", sub, i%4)
		}
		as, err := a.roles.CreateAssignment(context.Background(), rbac.AssignmentSpec{Name: uuid.NewString(), Scope: scope,
			RoleDefinitionID: "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
			PrincipalID:      uuid.NewString()})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, strings.ToLower(as.ID))
	}
	path := sub + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
	var got []string
	pages := 0
	for path != "" && pages < 20 {
		st, _, m := a.do(t, "admin", "GET", path)
		if st != 200 {
			t.Fatalf("GET %s: %d %v", path, st, m)
		}
		pages++
		for _, v := range m["value"].([]any) {
			got = append(got, strings.ToLower(v.(map[string]any)["id"].(string)))
		}
		path = ""
		if next, ok := m["nextLink"].(string); ok {
			u, err := url.Parse(next)
			if err != nil || u.Query().Get("api-version") != "2022-04-01" {
				t.Fatalf("nextLink %q", next)
			}
			path = strings.TrimPrefix(next, testBase)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("paged listing:\n%v\nwant\n%v", got, want)
	}
	if pages < 3 {
		t.Errorf("%d pages for 10 assignments at 3 a page", pages)
	}
	st, _, m := a.do(t, "admin", "GET", sub+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$skipToken=bogus")
	if st != 400 || errorCode(m) != rbac.CodeInvalidSkipToken {
		t.Errorf("bogus skip token: %d %v", st, m)
	}
}
