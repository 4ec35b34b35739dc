package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const testTenant = "11111111-2222-3333-4444-555555555555"

// pageAll follows Next to the end, limit at a time.
func pageAll[T any](t *testing.T, limit int, q Query[T], read func(Query[T]) (Page[T], error)) [][]T {
	t.Helper()
	var pages [][]T
	q.Limit = limit
	for range 100 {
		p, err := read(q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p.Items)
		if p.Next == "" {
			return pages
		}
		q.After = p.Next
	}
	t.Fatal("listing never ended")
	return nil
}

func names(sps [][]ServicePrincipal) []string {
	var out []string
	for _, page := range sps {
		for _, sp := range page {
			out = append(out, sp.DisplayName)
		}
	}
	return out
}

func TestPagesResumeAndProbesNarrow(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	other := "99999999-2222-3333-4444-555555555555"
	if err := d.EnsureTenant(ctx, Tenant{ID: other, DisplayName: "o", DefaultDomain: "o.test", Domains: []string{"o.test"}}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 23 {
		name := fmt.Sprintf("ci-%02d", i)
		if i%5 == 0 {
			name = "Build"
		}
		if _, err := d.CreateApplication(ctx, testTenant, ApplicationSpec{DisplayName: name, IdentifierURIs: []string{"api://" + name + fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	if _, err := d.CreateApplication(ctx, other, ApplicationSpec{DisplayName: "Build"}); err != nil {
		t.Fatal(err)
	}
	sps := func(q Query[ServicePrincipal]) (Page[ServicePrincipal], error) {
		return d.ServicePrincipalPage(ctx, testTenant, q)
	}

	pages := pageAll(t, 7, Query[ServicePrincipal]{}, sps)
	got := names(pages)
	if len(pages) != 4 || len(pages[0]) != 7 || len(pages[3]) != 2 {
		t.Errorf("pages of 7 over 23: sizes %d", len(pages))
	}
	if slices.Sort(got); !slices.Equal(got, sortedCopy(want)) {
		t.Errorf("paged listing %v, want %v", got, want)
	}

	exact := names(pageAll(t, 2, Query[ServicePrincipal]{Probe: &Probe{Property: ByDisplayName, Values: []string{"build"}}}, sps))
	if len(exact) != 5 || strings.Count(strings.Join(exact, ","), "Build") != 5 {
		t.Errorf("displayName eq build (any case, this tenant only): %v", exact)
	}
	prefix := names(pageAll(t, 100, Query[ServicePrincipal]{Probe: &Probe{Property: ByDisplayName, Prefix: "CI-1"}}, sps))
	if !slices.Equal(prefix, []string{"ci-11", "ci-12", "ci-13", "ci-14", "ci-16", "ci-17", "ci-18", "ci-19"}) {
		t.Errorf("startswith ci-1: %v", prefix)
	}
	matched := names(pageAll(t, 3, Query[ServicePrincipal]{Probe: &Probe{Property: ByDisplayName, Prefix: "ci-"},
		Match: func(sp ServicePrincipal) bool { return strings.HasSuffix(sp.DisplayName, "1") }}, sps))
	if !slices.Equal(matched, []string{"ci-01", "ci-11", "ci-21"}) {
		t.Errorf("probe and match: %v", matched)
	}
	counted, err := sps(Query[ServicePrincipal]{Limit: 1, Count: true, Probe: &Probe{Property: ByDisplayName, Values: []string{"Build"}}})
	if err != nil || counted.Total != 5 || len(counted.Items) != 1 || counted.Next == "" {
		t.Errorf("count: %d items, total %d, next %q, %v", len(counted.Items), counted.Total, counted.Next, err)
	}

	// Applications are keyed by appId alone; their tenant's index lists them.
	apps := pageAll(t, 10, Query[Application]{}, func(q Query[Application]) (Page[Application], error) {
		return d.ApplicationPage(ctx, testTenant, q)
	})
	n := 0
	for _, p := range apps {
		n += len(p)
	}
	if n != 23 {
		t.Errorf("applications of the tenant: %d, want 23", n)
	}
	uri, err := d.ApplicationPage(ctx, testTenant, Query[Application]{Probe: &Probe{Property: ByIdentifierURIs, Values: []string{"API://ci-07" + "7"}}})
	if err != nil || len(uri.Items) != 1 || uri.Items[0].DisplayName != "ci-07" {
		t.Errorf("identifierUris: %+v %v", uri.Items, err)
	}

	// A renamed object is found under its new name only.
	sp := exactOne(t, d, "ci-03")
	newName := "renamed"
	if _, err := d.UpdateServicePrincipal(ctx, testTenant, sp.ObjectID, ServicePrincipalPatch{DisplayName: &newName}); err != nil {
		t.Fatal(err)
	}
	if p, _ := sps(Query[ServicePrincipal]{Probe: &Probe{Property: ByDisplayName, Values: []string{"ci-03"}}}); len(p.Items) != 0 {
		t.Errorf("old name still finds %v", p.Items)
	}
	if got := exactOne(t, d, "renamed"); got.ObjectID != sp.ObjectID {
		t.Errorf("new name finds %v", got)
	}

	if _, err := sps(Query[ServicePrincipal]{After: "not-a-cursor"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

func exactOne(t *testing.T, d *Directory, name string) ServicePrincipal {
	t.Helper()
	p, err := d.ServicePrincipalPage(context.Background(), testTenant, Query[ServicePrincipal]{Probe: &Probe{Property: ByDisplayName, Values: []string{name}}})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("%s: %v %v", name, p.Items, err)
	}
	return p.Items[0]
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// Users are found by userPrincipalName, mail and displayName through the
// indexes, case-insensitively, within their tenant.
func TestUserProbes(t *testing.T) {
	d, _, _ := newDir(t)
	ctx := context.Background()
	for _, u := range []UserSpec{
		{UserPrincipalName: "ada@t.test", DisplayName: "Ada", Password: "Str0ng!Passw0rd", Extra: Extra{"mail": []byte(`"Ada.L@t.test"`)}},
		{UserPrincipalName: "alan@t.test", DisplayName: "Alan", Password: "Str0ng!Passw0rd"},
		{UserPrincipalName: "grace@t.test", DisplayName: "Grace", Password: "Str0ng!Passw0rd"},
	} {
		if _, err := d.CreateUser(ctx, testTenant, u); err != nil {
			t.Fatal(err)
		}
	}
	upns := func(p *Probe) []string {
		t.Helper()
		page, err := d.UserPage(ctx, testTenant, Query[User]{Probe: p})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range page.Items {
			out = append(out, u.UserPrincipalName)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		probe Probe
		want  []string
	}{
		{Probe{Property: ByUserPrincipalName, Values: []string{"ADA@t.test", "grace@t.test"}}, []string{"ada@t.test", "grace@t.test"}},
		{Probe{Property: ByMail, Values: []string{"ada.l@T.TEST"}}, []string{"ada@t.test"}},
		{Probe{Property: ByDisplayName, Prefix: "a"}, []string{"ada@t.test", "alan@t.test"}},
		{Probe{Property: ByMail, Values: []string{"alan@t.test"}}, nil},
	} {
		if got := upns(&c.probe); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.probe, got, c.want)
		}
	}
}
