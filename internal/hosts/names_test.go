package hosts

import (
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/azerr"
)

// TestCheckName: VM names follow Azure's rule, cluster nodes are
// "<group>/<cluster>", and anything else is an Invalid refusal (a 400).
func TestCheckName(t *testing.T) {
	good := []string{"vm1", "aksid-default-vm", "VM_2", "a", "web.01", strings.Repeat("v", 64),
		"rg/c1", "my-rg.(x)/aks_1", "ρg/c", strings.Repeat("g", 90) + "/" + strings.Repeat("c", 63)}
	bad := []string{"", "x/y/z", "/x", "rg/", "/", "vm.", "vm-", "-vm", "_vm", "a b", "vm#1", strings.Repeat("v", 65),
		"rg./c", "rg/c_", "rg/-c", "rg/c.1", strings.Repeat("g", 91) + "/c", "rg/" + strings.Repeat("c", 64)}
	for _, n := range good {
		if err := CheckName(n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
	for _, n := range bad {
		e, ok := azerr.As(CheckName(n))
		if !ok || e.Kind != azerr.Invalid || e.Code != "InvalidResourceName" {
			t.Errorf("%q: %v", n, e)
		}
	}
	if CheckVMName("rg/c1") == nil {
		t.Error("a VM named rg/c1")
	}
}
