package rbac

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestActionMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, action string
		want            bool
	}{
		{"*", "Microsoft.Network/virtualNetworks/read", true},
		{"*/read", "Microsoft.Network/virtualNetworks/subnets/read", true},
		{"*/read", "Microsoft.Network/virtualNetworks/write", false},
		{"Microsoft.Network/*", "microsoft.network/virtualNetworks/subnets/join/action", true},
		{"Microsoft.Network/*", "Microsoft.NetworkFunction/x/read", false},
		{"Microsoft.Network/*/read", "Microsoft.Network/virtualNetworks/subnets/read", true},
		{"Microsoft.Network/*/read", "Microsoft.Network/read", false},
		{"Microsoft.Authorization/*/Write", "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", true},
		{"Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/read", true},
		{"Microsoft.Compute/virtualMachines/read", "Microsoft.Compute/virtualMachines/readx", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"**", "", true},
		{"a*", "", false},
	} {
		if got := ActionMatches(tc.pattern, tc.action); got != tc.want {
			t.Errorf("ActionMatches(%q, %q) = %v", tc.pattern, tc.action, got)
		}
	}
}

// FuzzActionMatch checks the matcher against a regular-expression oracle.
func FuzzActionMatch(f *testing.F) {
	f.Add("Microsoft.Network/*/read", "Microsoft.Network/virtualNetworks/read")
	f.Add("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pattern, action string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(action) {
			return
		}
		parts := strings.Split(strings.ToLower(pattern), "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re := regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
		if got, want := ActionMatches(pattern, action), re.MatchString(strings.ToLower(action)); got != want {
			t.Fatalf("ActionMatches(%q, %q) = %v, oracle %v", pattern, action, got, want)
		}
	})
}
