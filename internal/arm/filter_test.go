package arm

import (
	"testing"

	"github.com/aksid/aksid/internal/resources"
)

func TestResourceFilterReadsWhatAzSends(t *testing.T) {
	rf, err := parseResourceFilter("resourceGroup eq 'MC_rg_c1_eastus' and resourceType eq 'Microsoft.Network/loadBalancers' and name eq 'kubernetes'")
	if err != nil {
		t.Fatal(err)
	}
	if rf.group != "MC_rg_c1_eastus" || rf.typ != "Microsoft.Network/loadBalancers" || rf.name != "kubernetes" || rf.none {
		t.Fatalf("filter %+v", rf)
	}
	if rf.scope("/subscriptions/s") != "/subscriptions/s/resourceGroups/MC_rg_c1_eastus" {
		t.Errorf("scope %q", rf.scope("/subscriptions/s"))
	}
	lb := resources.GenericResource{Name: "Kubernetes", Tags: map[string]string{"Env": "dev"}}
	if !rf.keep(lb) || rf.keep(resources.GenericResource{Name: "other"}) {
		t.Error("name filter")
	}
	if at, _ := parseResourceFilter("location eq 'eastus'"); !at.keep(resources.GenericResource{Location: "EastUS"}) || at.keep(lb) {
		t.Error("location filter")
	}
	tagged, err := parseResourceFilter("tagName eq 'env' and tagValue eq 'dev'")
	if err != nil || !tagged.keep(lb) || tagged.keep(resources.GenericResource{Name: "x"}) {
		t.Errorf("tag filter %+v %v", tagged, err)
	}
	if rf.inGroup("mc_RG_c1_eastus").none || !rf.inGroup("other").none {
		t.Error("the path's group and the filter's must agree, case-insensitively")
	}
	if c, _ := parseResourceFilter("name eq 'a' and name eq 'b'"); !c.none || c.keep(resources.GenericResource{Name: "a"}) {
		t.Error("contradicting values must match nothing")
	}
}

func TestResourceFilterRefusesWhatItCannotAnswer(t *testing.T) {
	for _, f := range []string{"resourceType ne 'x'", "plan eq 'x'", "name eq 'a' or name eq 'b'", "startswith(name,'a')", "name eq 3", "name eq"} {
		if _, err := parseResourceFilter(f); err == nil {
			t.Errorf("%q accepted", f)
		}
	}
	if rf, err := parseResourceFilter("  "); err != nil || rf != (resourceFilter{}) {
		t.Errorf("empty filter: %+v %v", rf, err)
	}
}
