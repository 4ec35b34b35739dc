package odata

import (
	"slices"
	"testing"
)

func TestPlan(t *testing.T) {
	schema := Schema{Type: "servicePrincipal", Props: map[string]Kind{
		"displayName": String, "appId": String, "servicePrincipalNames": Strings, "accountEnabled": Bool, "tags": Strings,
	}}
	indexed := func(p string) bool { return p == "displayName" || p == "appId" || p == "servicePrincipalNames" }
	for _, c := range []struct {
		filter string
		want   *Probe
	}{
		{"displayName eq 'Build'", &Probe{Prop: "displayName", Values: []string{"Build"}}},
		{"DisplayName eq 'x'", &Probe{Prop: "displayName", Values: []string{"x"}}},
		{"appId in ('a', 'b')", &Probe{Prop: "appId", Values: []string{"a", "b"}}},
		{"startswith(displayName, 'ci-')", &Probe{Prop: "displayName", Prefix: "ci-"}},
		{"servicePrincipalNames/any(c: c eq 'http://x')", &Probe{Prop: "servicePrincipalNames", Values: []string{"http://x"}}},
		{"servicePrincipalNames/any(c: startswith(c, 'api://'))", &Probe{Prop: "servicePrincipalNames", Prefix: "api://"}},
		{"startswith(displayName, 'a') and appId eq 'z'", &Probe{Prop: "appId", Values: []string{"z"}}},
		{"accountEnabled eq true and displayName eq 'd'", &Probe{Prop: "displayName", Values: []string{"d"}}},
		{"displayName eq 'a' or displayName eq 'b'", &Probe{Prop: "displayName", Values: []string{"a", "b"}}},
		{"displayName eq 'a' or appId eq 'b'", nil},
		{"not(displayName eq 'a')", nil},
		{"displayName ne 'a'", nil},
		{"accountEnabled eq true", nil},
		{"tags/any(t: t eq 'x')", nil},
		{"endswith(displayName, 'x')", nil},
		{"servicePrincipalNames/all(c: c eq 'x')", nil},
	} {
		e, err := Parse(c.filter)
		if err == nil {
			e, err = schema.Check(e)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		got, ok := Plan(e, indexed)
		if c.want == nil {
			if ok {
				t.Errorf("%s: planned %+v, want a full scan", c.filter, got)
			}
			continue
		}
		if !ok || got.Prop != c.want.Prop || !slices.Equal(got.Values, c.want.Values) || got.Prefix != c.want.Prefix {
			t.Errorf("%s: %+v %v, want %+v", c.filter, got, ok, *c.want)
		}
	}
}
