package rbac

import "strings"

// ActionMatches reports whether an action such as
// Microsoft.Network/virtualNetworks/read matches a role's pattern such as
// Microsoft.Network/* or */read: case-insensitive, where each * stands for
// any run of characters, slashes included, and a whole segment /*/ may
// also stand for none, as in Azure: Managed Identity Operator's
// userAssignedIdentities/*/assign/action grants
// userAssignedIdentities/assign/action.
func ActionMatches(pattern, action string) bool {
	return compile(pattern).match(strings.ToLower(action))
}

// matcher is a compiled action pattern; the kinds skip the general glob for
// the shapes roles use most.
type matcher struct {
	kind matchKind
	lit  string   // the lower-cased pattern, without the trailing * for prefix
	alts []string // globs: lit with some /*/ segments taken out
}

type matchKind uint8

const (
	matchAll    matchKind = iota // "*"
	matchExact                   // no *
	matchPrefix                  // one trailing *
	matchGlob                    // anything else
)

func compile(pattern string) matcher {
	p := strings.ToLower(pattern)
	switch n := strings.Count(p, "*"); {
	case n == 0:
		return matcher{kind: matchExact, lit: p}
	case strings.Trim(p, "*") == "":
		return matcher{kind: matchAll}
	case n == 1 && p[len(p)-1] == '*':
		return matcher{kind: matchPrefix, lit: p[:len(p)-1]}
	default:
		return matcher{kind: matchGlob, lit: p, alts: emptySegments(p)}
	}
}

// emptySegments is p with each combination of its /*/ segments (up to
// four) collapsed to /, p itself left out.
func emptySegments(p string) []string {
	i := strings.Index(p, "/*/")
	if i < 0 || strings.Count(p, "/*/") > 4 {
		return nil
	}
	head, tail := p[:i], p[i+2:] // tail keeps the segment's closing /
	var out []string
	for _, t := range append([]string{tail}, emptySegments(tail)...) {
		out = append(out, head+t) // this segment empty
		if t != tail {
			out = append(out, head+"/*"+t) // only later ones empty
		}
	}
	return out
}

func compileAll(patterns []string) []matcher {
	out := make([]matcher, len(patterns))
	for i, p := range patterns {
		out[i] = compile(p)
	}
	return out
}

// match tests a lower-cased action.
func (m matcher) match(action string) bool {
	switch m.kind {
	case matchAll:
		return true
	case matchExact:
		return action == m.lit
	case matchPrefix:
		return strings.HasPrefix(action, m.lit)
	default:
		if glob(m.lit, action) {
			return true
		}
		for _, alt := range m.alts {
			if glob(alt, action) {
				return true
			}
		}
		return false
	}
}

func anyMatch(ms []matcher, action string) bool {
	for _, m := range ms {
		if m.match(action) {
			return true
		}
	}
	return false
}

// glob matches s against p where * is any run of bytes. On a mismatch it
// backtracks only to the last star, which is enough for * patterns and
// keeps the work linear in practice (len(p)·len(s) at worst).
func glob(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
