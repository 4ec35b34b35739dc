package arm

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/origin"
	"github.com/aksid/aksid/internal/rbac"
	"github.com/aksid/aksid/internal/resources"
	"github.com/aksid/aksid/internal/store"
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

// pageThrough GETs path and every nextLink after it, and returns the
// IDs listed and how many pages it took.
func (a *armTest) pageThrough(t *testing.T, oid, path string) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for path != "" && pages < 50 {
		st, _, m := a.do(t, oid, "GET", path)
		if st != 200 {
			t.Fatalf("GET %s: %d %v", path, st, m)
		}
		pages++
		for _, v := range m["value"].([]any) {
			ids = append(ids, strings.ToLower(v.(map[string]any)["id"].(string)))
		}
		next, _ := m["nextLink"].(string)
		path = strings.TrimPrefix(next, testBase)
	}
	slices.Sort(ids)
	return ids, pages
}

// Resource groups and resources come a page at a time too, by $skiptoken.
func TestResourceListsPageByNextLink(t *testing.T) {
	defer func(n int) { listPageSize = n }(listPageSize)
	listPageSize = 2
	a := newARMTest(t, grants{"admin": {actGroupRead, actResRead}})
	ctx := context.Background()
	sub := "/subscriptions/" + testSub
	wantGroups := []string{strings.ToLower(sub + "/resourceGroups/rg")}
	var wantIdentities []string
	for i := range 5 {
		name := fmt.Sprintf("g%d", i)
		if _, err := a.res.PutGroup(ctx, testSub, name, resources.GroupSpec{Location: "westus2"}); err != nil {
			t.Fatal(err)
		}
		wantGroups = append(wantGroups, strings.ToLower(sub+"/resourceGroups/"+name))
		for _, typ := range []string{"Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.Network/virtualNetworks"} {
			id := fmt.Sprintf("%s/resourceGroups/%s/providers/%s/r%d", sub, name, typ, i)
			r := resources.GenericResource{ID: id, Name: fmt.Sprintf("r%d", i), Type: typ, Location: "westus2"}
			if err := a.st.Update(ctx, func(_ context.Context, tx store.Tx) error { return resources.IndexResource(tx, r) }); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(typ, "Microsoft.ManagedIdentity") {
				wantIdentities = append(wantIdentities, strings.ToLower(id))
			}
		}
	}
	slices.Sort(wantGroups)
	slices.Sort(wantIdentities)
	groups, pages := a.pageThrough(t, "admin", sub+"/resourcegroups?api-version=2021-04-01")
	if !slices.Equal(groups, wantGroups) || pages != 3 {
		t.Errorf("groups in %d pages: %v, want %v", pages, groups, wantGroups)
	}
	filter := url.QueryEscape("resourceType eq 'Microsoft.ManagedIdentity/userAssignedIdentities'")
	ids, pages := a.pageThrough(t, "admin", sub+"/resources?api-version=2021-04-01&$filter="+filter)
	if !slices.Equal(ids, wantIdentities) || pages != 3 {
		t.Errorf("identities in %d pages: %v, want %v", pages, ids, wantIdentities)
	}
	all, _ := a.pageThrough(t, "admin", sub+"/resources?api-version=2021-04-01")
	if len(all) != 10 {
		t.Errorf("%d resources listed, want 10", len(all))
	}
	if st, _, m := a.do(t, "admin", "GET", sub+"/resourcegroups?api-version=2021-04-01&$skiptoken=%25%25"); st != 400 {
		t.Errorf("bogus skiptoken: %d %v", st, m)
	}
}

// Directly, a token for aksid's own URL is an ARM token: what an SDK
// given that URL as its endpoint asks for. Other audiences stay refused.
func TestDirectTokensForAksidsURLAreARMTokens(t *testing.T) {
	a := newARMTest(t, grants{"admin": {actGroupRead}})
	for aud, want := range map[string]int{testBase: 200, testBase + "/": 200, "https://graph.microsoft.com": 401, "https://other.example": 401} {
		req := httptest.NewRequest("GET", testBase+"/subscriptions/"+testSub+"/resourcegroups/rg?api-version=2021-04-01", nil)
		req.Header.Set("Authorization", "Bearer "+a.tokenFor(t, "admin", aud))
		req = req.WithContext(origin.NewContext(req.Context(), origin.Direct(testBase, "")))
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("aud %s: %d, want %d: %s", aud, w.Code, want, w.Body)
		}
	}
}
