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
		// A whole /*/ segment may be empty, as Azure has it: Managed
		// Identity Operator (…/*/assign/action, …/*/read) may assign and read
		// a user-assigned identity.
		{"Microsoft.Network/*/read", "Microsoft.Network/read", true},
		{"Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", true},
		{"Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/read", true},
		{"Microsoft.ManagedIdentity/userAssignedIdentities/*/read", "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read", true},
		{"Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action", "Microsoft.ManagedIdentity/userAssignedIdentities/write", false},
		{"a/*/*/b", "a/b", true},
		{"a/*/*/b", "a/x/b", true},
		{"a/*/b/*/c", "a/b/c", true},
		{"a/*/b/*/c", "a/x/b/c", true},
		{"a/*/b/*/c", "a/bc", false},
		{"Microsoft.Network/*read", "Microsoft.Network/read", true},
		{"Microsoft.Network*/read", "Microsoft.Network/read", true},
		{"Microsoft.Network/x*/read", "Microsoft.Network/read", false},
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

// FuzzActionMatch checks the matcher against a regular-expression oracle:
// * is .*, and a /*/ segment (of at most four) may also be empty.
func FuzzActionMatch(f *testing.F) {
	f.Add("Microsoft.Network/*/read", "Microsoft.Network/virtualNetworks/read")
	f.Add("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")
	f.Add("*", "")
	f.Add("a/*/*/b", "a/b")
	f.Add("a/*/b/*/c", "a/b/x/c")
	f.Add("é/*/ü", "é/ü")
	f.Fuzz(func(t *testing.T, pattern, action string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(action) {
			return
		}
		p := strings.ToLower(pattern)
		segments := strings.Count(p, "/*/") <= 4
		var expr strings.Builder
		for i := 0; i < len(p); i++ {
			switch {
			case p[i] == '*' && segments && i > 0 && p[i-1] == '/' && i+1 < len(p) && p[i+1] == '/':
				expr.WriteString("(?:.*/)?")
				i++
			case p[i] == '*':
				expr.WriteString(".*")
			default:
				_, n := utf8.DecodeRuneInString(p[i:])
				expr.WriteString(regexp.QuoteMeta(p[i : i+n]))
				i += n - 1
			}
		}
		re := regexp.MustCompile(`(?s)\A` + expr.String() + `\z`)
		if got, want := ActionMatches(pattern, action), re.MatchString(strings.ToLower(action)); got != want {
			t.Fatalf("ActionMatches(%q, %q) = %v, oracle %v", pattern, action, got, want)
		}
	})
}
