package rbac

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/armid"
	"github.com/google/uuid"
)

// The indexed listing returns exactly what testing every assignment would.
func TestListAssignmentsMatchesAFullScan(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	scopes := []string{sub, rg1, rg2, vnet, strings.ToUpper(rg2) + "/providers/Microsoft.Network/virtualNetworks/V2", "/"}
	principals := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	rnd := rand.New(rand.NewPCG(1, 2))
	var all []Assignment
	made := map[[2]int]bool{}
	for range 40 {
		s, p := rnd.IntN(len(scopes)), rnd.IntN(len(principals))
		if made[[2]int{s, p}] {
			continue
		}
		made[[2]int{s, p}] = true
		all = append(all, f.assign(scopes[s], reader, principals[p]))
	}
	ids := func(as []Assignment) []string {
		var out []string
		for _, a := range as {
			out = append(out, strings.ToLower(a.ID))
		}
		slices.Sort(out)
		return out
	}
	for _, scope := range scopes {
		at := armid.MustParse(scope)
		for _, atScope := range []bool{false, true} {
			for _, p := range append([]string{""}, principals...) {
				got, err := f.ListAssignments(ctx, scope, AssignmentFilter{AtScope: atScope, PrincipalID: p})
				if err != nil {
					t.Fatal(err)
				}
				var want []Assignment
				for _, a := range all {
					as := armid.MustParse(a.Scope)
					if (p == "" || strings.EqualFold(p, a.PrincipalID)) && (as.Contains(at) || (!atScope && at.Contains(as))) {
						want = append(want, a)
					}
				}
				if !slices.Equal(ids(got), ids(want)) {
					t.Errorf("%s atScope=%v principal=%q: %d listed, want %d", scope, atScope, p, len(got), len(want))
				}
			}
		}
	}
	if err := f.DeleteUnder(ctx, rg2); err != nil {
		t.Fatal(err)
	}
	left, err := f.ListAssignments(ctx, "/", AssignmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range left {
		if armid.MustParse(rg2).Contains(armid.MustParse(a.Scope)) {
			t.Errorf("%s survived the deletion of its group", a.ID)
		}
	}
	if len(left) == 0 || len(left) == len(all) {
		t.Errorf("%d of %d left after deleting rg2", len(left), len(all))
	}
}
