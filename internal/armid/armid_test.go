package armid

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

const sub = "/subscriptions/35349980-0f19-46d4-b35c-857c4a1e327e"

func TestParseGood(t *testing.T) {
	for _, tc := range []struct {
		in, canonical, sub, rg, provider, typ, name, parent string
	}{
		{"/", "/", "", "", "", "", "", "/"},
		{"//", "/", "", "", "", "", "", "/"},
		{sub, sub, "35349980-0f19-46d4-b35c-857c4a1e327e", "", "Microsoft.Resources", "Microsoft.Resources/subscriptions", "35349980-0f19-46d4-b35c-857c4a1e327e", "/"},
		{"/SUBSCRIPTIONS/abc/", "/subscriptions/abc", "abc", "", "Microsoft.Resources", "Microsoft.Resources/subscriptions", "abc", "/"},
		{sub + "/resourcegroups/My-RG", sub + "/resourceGroups/My-RG", "35349980-0f19-46d4-b35c-857c4a1e327e", "My-RG", "Microsoft.Resources", "Microsoft.Resources/resourceGroups", "My-RG", sub},
		{sub + "//resourceGroups//rg//", sub + "/resourceGroups/rg", "35349980-0f19-46d4-b35c-857c4a1e327e", "rg", "Microsoft.Resources", "Microsoft.Resources/resourceGroups", "rg", sub},
		{sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet", "", "35349980-0f19-46d4-b35c-857c4a1e327e", "rg", "Microsoft.Network", "Microsoft.Network/virtualNetworks", "vnet", sub + "/resourceGroups/rg"},
		{sub + "/resourceGroups/rg/Providers/Microsoft.Network/virtualNetworks/vnet/subnets/default", sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default",
			"35349980-0f19-46d4-b35c-857c4a1e327e", "rg", "Microsoft.Network", "Microsoft.Network/virtualNetworks/subnets", "default", sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"},
		{sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "", "35349980-0f19-46d4-b35c-857c4a1e327e", "", "Microsoft.Authorization",
			"Microsoft.Authorization/roleDefinitions", "acdd72a7-3385-48ef-bd42-f606fba81ae7", sub},
		{sub + "/providers/Microsoft.ContainerService", "", "35349980-0f19-46d4-b35c-857c4a1e327e", "", "Microsoft.Resources", "Microsoft.Resources/providers", "Microsoft.ContainerService", sub},
		{"/providers/Microsoft.Management/managementGroups/mg1", "", "", "", "Microsoft.Management", "Microsoft.Management/managementGroups", "mg1", "/"},
		{"/providers/Microsoft.Capacity", "", "", "", "Microsoft.Resources", "Microsoft.Resources/providers", "Microsoft.Capacity", "/"},
		// Extension resources: a role assignment on a registry, a feature on a provider.
		{sub + "/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr/providers/Microsoft.Authorization/roleAssignments/0e9a9a59-0fa5-4d0e-9a29-6a3c1e000001", "",
			"35349980-0f19-46d4-b35c-857c4a1e327e", "rg", "Microsoft.Authorization", "Microsoft.Authorization/roleAssignments", "0e9a9a59-0fa5-4d0e-9a29-6a3c1e000001",
			sub + "/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr"},
		{sub + "/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/MSIPreview", "", "35349980-0f19-46d4-b35c-857c4a1e327e", "", "Microsoft.ContainerService",
			"Microsoft.ContainerService/features", "MSIPreview", sub + "/providers/Microsoft.Features"},
		// Names equal to keywords stay names.
		{"/subscriptions/providers/resourceGroups/providers/providers/NS/t/providers", "", "providers", "providers", "NS", "NS/t", "providers", "/subscriptions/providers/resourceGroups/providers"},
		{sub + "/resourceGroups/Ünïcode rg", "", "35349980-0f19-46d4-b35c-857c4a1e327e", "Ünïcode rg", "Microsoft.Resources", "Microsoft.Resources/resourceGroups", "Ünïcode rg", sub},
	} {
		id, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		want := tc.canonical
		if want == "" {
			want = tc.in
		}
		got := []string{id.String(), id.SubscriptionID(), id.ResourceGroup(), id.Provider(), id.ResourceType(), id.Name(), id.Parent().String()}
		if exp := []string{want, tc.sub, tc.rg, tc.provider, tc.typ, tc.name, tc.parent}; !slices.Equal(got, exp) {
			t.Errorf("Parse(%q)\n got %q\nwant %q", tc.in, got, exp)
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, in := range []string{
		"",
		"subscriptions/x",
		" /subscriptions/x",
		"/subscriptions",
		"/subscriptions/",
		"/resourceGroups/rg",
		"/subscriptions/x/resourceGroups",
		"/subscriptions/x/resourceGroups/",
		"/subscriptions/x/foo/bar",
		"/subscriptions/x/resourceGroups/rg/virtualNetworks/v",
		"/subscriptions/x/providers",
		"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks",
		"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets",
		"/providers",
		"/providers/NS/type",
		"/tenants/x",
		"/subscriptions/x\n",
		"/subscriptions/\x00",
		"/subscriptions/\xff",
	} {
		_, err := Parse(in)
		var me *MalformedError
		if !errors.Is(err, ErrMalformed) || !errors.As(err, &me) || me.ID != in || me.Reason == "" {
			t.Errorf("Parse(%q) = %v, want a MalformedError", in, err)
		}
	}
}

func TestCompare(t *testing.T) {
	rg := MustParse(sub + "/resourceGroups/RG")
	vnet := MustParse(sub + "/resourcegroups/rg/providers/Microsoft.Network/virtualNetworks/v")
	rg2 := MustParse(sub + "/resourceGroups/rg2")
	if !rg.Equal(MustParse(strings.ToUpper(sub) + "/RESOURCEGROUPS/rg/")) {
		t.Error("Equal is case-sensitive")
	}
	if rg.String() != sub+"/resourceGroups/RG" {
		t.Errorf("names must keep their case: %s", rg)
	}
	for _, tc := range []struct {
		a, b ID
		want bool
	}{
		{ID{}, vnet, true}, {rg, vnet, true}, {rg, rg, true}, {vnet, rg, false},
		{rg, rg2, false}, {rg2, rg, false}, {MustParse(sub), rg2, true}, {vnet, ID{}, false},
		{MustParse("/subscriptions/Ä"), MustParse("/subscriptions/ä/resourceGroups/x"), true},
	} {
		if got := tc.a.Contains(tc.b); got != tc.want {
			t.Errorf("%s.Contains(%s) = %v", tc.a, tc.b, got)
		}
	}
	if got := rg.Key(); got != strings.ToLower(sub)+"/resourcegroups/rg" {
		t.Errorf("Key = %s", got)
	}
}

func TestAncestors(t *testing.T) {
	id := MustParse(sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s/providers/Microsoft.Authorization/roleAssignments/a")
	var got []string
	for _, a := range id.Ancestors() {
		got = append(got, a.String())
		if !a.Contains(id) {
			t.Errorf("%s does not contain %s", a, id)
		}
	}
	want := []string{
		id.String(),
		sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
		sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
		sub + "/resourceGroups/rg",
		sub,
		"/",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Ancestors\n got %q\nwant %q", got, want)
	}
	if !(ID{}).Parent().IsRoot() || len(ID{}.Ancestors()) != 1 {
		t.Error("the root must be its own parent")
	}
}

func TestJSON(t *testing.T) {
	var v struct{ Scope ID }
	if err := json.Unmarshal([]byte(`{"Scope":"/SUBSCRIPTIONS/x//resourcegroups/r/"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"Scope":"/subscriptions/x/resourceGroups/r"}` {
		t.Errorf("got %s", b)
	}
	if err := json.Unmarshal([]byte(`{"Scope":"x"}`), &v); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad ID accepted: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/", sub, sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
		"/providers/Microsoft.Management/managementGroups/mg", sub + "/providers/A/providers/B/t/n", "//x", "/subscriptions/ſ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrMalformed", s, err)
			}
			return
		}
		again, err := Parse(id.String())
		if err != nil {
			t.Fatalf("Parse(%q) gave %q, which does not parse: %v", s, id, err)
		}
		if again != id || !again.Equal(id) || again.Key() != id.Key() {
			t.Fatalf("round trip %q: %q then %q", s, id, again)
		}
		// Every accessor works on every ID, and the ancestry is consistent.
		_, _, _, _, _ = id.SubscriptionID(), id.ResourceGroup(), id.Provider(), id.ResourceType(), id.Name()
		anc := id.Ancestors()
		if !anc[len(anc)-1].IsRoot() {
			t.Fatalf("ancestors of %q end at %q", id, anc[len(anc)-1])
		}
		for _, a := range anc {
			if !a.Contains(id) {
				t.Fatalf("%q does not contain its descendant %q", a, id)
			}
		}
		if p := id.Parent(); !id.IsRoot() && (id.Equal(p) || !p.Contains(id)) {
			t.Fatalf("parent %q of %q", p, id)
		}
	})
}
